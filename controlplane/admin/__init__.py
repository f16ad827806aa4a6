"""The admin: model admins, the operator's site, forms, the trace page and the dashboard.
Django's autodiscovery imports this package; the model admins register themselves."""

from controlplane.admin import model_admins as model_admins
