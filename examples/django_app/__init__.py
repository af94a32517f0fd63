"""A minimal Django project behind veil: settings.py, urls.py (views too), wsgi.py, asgi.py."""
