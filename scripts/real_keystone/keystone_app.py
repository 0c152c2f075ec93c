"""Keystone's WSGI application for gunicorn (scripts/real-keystone.sh).

Keystone parses the process's command line with oslo.config when it loads, and would
refuse gunicorn's own arguments; it is given an empty one. Its config file comes from
OS_KEYSTONE_CONFIG_FILES, which the script passes with gunicorn's --env.
"""

import sys

sys.argv = sys.argv[:1]

from keystone.wsgi.api import application  # noqa: E402,F401
