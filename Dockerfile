# The control plane image: web (gunicorn), Celery worker and beat, and the consumer.
# python:3.11-slim (3.11.16 on Debian trixie), pinned by the digest of its multi-arch index
# so that a rebuild gets the same base; change tag and digest together.
FROM python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app
WORKDIR /app

# Every package comes from the hash-locked file (bin/lock writes it): pip refuses a file
# whose hash differs and any dependency the lock does not name. Only the service's own
# dependencies: the development servers (the `embedded` extra, devstack/) and the test and
# benchmark extras stay out of the image. The code runs from /app (PYTHONPATH), not as an
# installed package, so nothing is built here.
COPY requirements/prod.txt ./requirements/prod.txt
RUN pip install --no-cache-dir --require-hashes -r requirements/prod.txt
COPY config ./config
COPY controlplane ./controlplane
COPY commitlog ./commitlog
COPY templates ./templates
COPY manage.py ./
# Collected as root, then made unwritable by anyone but root: the user the processes run
# as can read the code and static files and change none of them.
RUN PROFILE=dev DJANGO_STATIC_ROOT=/app/static python manage.py collectstatic --noinput \
    && chmod -R go-w /app \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin controlplane
USER controlplane
ENV DJANGO_STATIC_ROOT=/app/static
EXPOSE 8000
CMD ["gunicorn", "-c", "python:config.gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000"]
