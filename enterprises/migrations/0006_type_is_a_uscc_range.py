"""The entity type is the USCC's second character, held by a check constraint; type filters become a range of the
USCC order (EnterpriseQuerySet.of_type); the (region, uscc) index carries status and id, for index-only counts and
county joins."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('enterprises', '0005_fewer_registry_indexes'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='enterprise',
            name='ent_region_uscc_idx',
        ),
        migrations.AddIndex(
            model_name='enterprise',
            index=models.Index(fields=['region', 'uscc'], include=('status', 'id'), name='ent_region_uscc_cov_idx'),
        ),
        migrations.AddConstraint(
            model_name='enterprise',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('entity_type', 'enterprise'), ('uscc__startswith', '91')), models.Q(('entity_type', 'individual'), ('uscc__startswith', '92')), models.Q(('entity_type', 'cooperative'), ('uscc__startswith', '93')), _connector='OR'), name='enterprise_type_matches_uscc', violation_error_message='The entity type does not match the second character of the USCC.'),
        ),
    ]
