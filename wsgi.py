"""WSGI entry point: gunicorn wsgi:app."""

from judging import create_app

app = create_app()
