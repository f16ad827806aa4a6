# The control plane image: web (gunicorn), Celery worker and beat, and the consumer.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# Only the service: the development servers (the `embedded` extra, devstack/) and the
# test and benchmark extras stay out of the image.
COPY pyproject.toml README.md ./
COPY controlplane ./controlplane
COPY commitlog ./commitlog
COPY templates ./templates
COPY manage.py ./
# Installed and collected as root, so the code and static files are read-only to the
# user the processes run as.
RUN pip install --no-cache-dir . \
    && PROFILE=dev DJANGO_STATIC_ROOT=/app/static python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 controlplane
USER controlplane
ENV DJANGO_STATIC_ROOT=/app/static
EXPOSE 8000
CMD ["gunicorn", "controlplane.wsgi:application", "--bind", "0.0.0.0:8000"]
