"""The WSGI entry point (gunicorn): a configuration that must not start is reported as
one line per problem and exit status 2 (config.startup), not as a worker's traceback."""

from django.core.wsgi import get_wsgi_application

from config.startup import load_settings_or_exit

load_settings_or_exit()
application = get_wsgi_application()
