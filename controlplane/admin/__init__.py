"""The admin: model admins, the operator's site, forms, the trace page and the dashboard.

The model admins register from ControlPlaneConfig.ready(), not from this package's
import: Django imports `controlplane.admin.site` while it builds the admin site, and a
registration made during that import would go to a site that is then thrown away."""
