"""Invalid records kept cut to a bound, with the whole key's and value's lengths and the
value's digest (rows stored before keep their bytes and leave the new columns empty)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('commitlog', '0009_activity_minute'),
    ]

    operations = [
        migrations.AddField(
            model_name='invalidrecord',
            name='key_length',
            field=models.IntegerField(help_text='Length of the whole key.', null=True),
        ),
        migrations.AddField(
            model_name='invalidrecord',
            name='value_length',
            field=models.IntegerField(help_text='Length of the whole value.', null=True),
        ),
        migrations.AddField(
            model_name='invalidrecord',
            name='value_sha256',
            field=models.CharField(blank=True, default='', help_text='SHA-256 of the whole value.', max_length=64),
        ),
        migrations.AddField(
            model_name='invalidrecord',
            name='headers',
            field=models.TextField(blank=True, default='', help_text='The record\'s headers, as text (the first of them).'),
        ),
        migrations.AlterField(
            model_name='invalidrecord',
            name='key',
            field=models.BinaryField(help_text='Raw key bytes (the first of them).', null=True),
        ),
        migrations.AlterField(
            model_name='invalidrecord',
            name='value',
            field=models.BinaryField(help_text='Raw value bytes (the first of them).', null=True),
        ),
    ]
