"""Conflicting records kept cut to a bound, as invalid records are (0010), with the whole
value's length (rows stored before keep their whole value and leave it empty). Adding a
nullable column rewrites nothing."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('commitlog', '0011_audit_run'),
    ]

    operations = [
        migrations.AddField(
            model_name='recordconflict',
            name='value_length',
            field=models.IntegerField(help_text='Length of the whole value.', null=True),
        ),
        migrations.AlterField(
            model_name='recordconflict',
            name='value',
            field=models.BinaryField(help_text="The conflicting record's value (the first of its bytes)."),
        ),
        migrations.AlterField(
            model_name='recordconflict',
            name='value_sha256',
            field=models.CharField(help_text='SHA-256 of the whole value.', max_length=64),
        ),
    ]
