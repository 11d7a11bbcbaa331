#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import sys


def main() -> None:
    # `.env` first: its DJANGO_SETTINGS_MODULE line chooses the settings module.
    from catalog_health.environment import configure

    configure()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
