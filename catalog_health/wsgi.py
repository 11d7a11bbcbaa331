from django.core.wsgi import get_wsgi_application

from catalog_health.environment import configure

configure()  # `.env` first: its DJANGO_SETTINGS_MODULE line chooses the settings module
application = get_wsgi_application()
