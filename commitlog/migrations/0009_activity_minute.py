"""The dashboard's history: one row per (minute, source), bounded by the prune."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('commitlog', '0008_queue_table_default_autovacuum'),
    ]

    operations = [
        migrations.CreateModel(
            name='ActivityMinute',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('minute', models.DateTimeField(help_text='Start of the minute (UTC).')),
                ('source', models.CharField(help_text='relay, or consumer:<group>.', max_length=300)),
                ('records', models.JSONField(default=dict)),
                ('batches', models.PositiveIntegerField(default=0)),
                ('failed', models.PositiveIntegerField(default=0, help_text='Failed publish attempts.')),
                ('dead', models.PositiveIntegerField(default=0)),
                ('invalid', models.PositiveIntegerField(default=0)),
                ('conflicts', models.PositiveIntegerField(default=0)),
                ('duplicates', models.PositiveIntegerField(default=0)),
                ('backlog', models.BigIntegerField(help_text='Pending outbox rows, last seen.', null=True)),
                ('oldest_pending_s', models.FloatField(help_text="Oldest pending row's age.", null=True)),
                ('lag', models.BigIntegerField(help_text="The group's lag, last seen.", null=True)),
                ('last_batch_at', models.DateTimeField(help_text='Last batch that moved records.', null=True)),
            ],
            options={
                'verbose_name': 'activity minute',
                'ordering': ['minute', 'source'],
                'constraints': [models.UniqueConstraint(fields=('minute', 'source'), name='activity_minute_unique')],
            },
        ),
    ]
