"""The local stack of `make dev`: an API Gateway stand-in and a local S3, no AWS account needed.

- `gateway`: HTTP requests under /api become the HTTP API (payload 2.0) proxy events that API Gateway
  would send, and go to the very handlers Lambda runs (lambda_inference/app.py, lambda_gallery/app.py);
  / serves the built web app and /config.json points it at /api.
- `local_s3`: a moto S3 server, its gallery bucket seeded with the photos in sample_gallery/.

    python -m devserver [--port 8000] [--models models/] [--static frontend/dist]
"""
