"""Code both Lambda handlers share, shipped as the `common` layer (/opt/python/apicommon on Lambda).

- `apicommon.http`: API Gateway proxy events (REST v1 and HTTP API v2) in, proxy responses out;
  the contract's error body, CORS on every response, Server-Timing, one JSON log line per request.
- `apicommon.gallery`: the gallery bucket: key validation, listing, fetching. Both handlers read
  gallery images (`POST /gallery` and `POST /stylize` with `gallery_key`), so the rules live once.
- `apicommon.uploads`: files sent as base64 in JSON bodies (photos, paintings).
- `apicommon.userstyles`: users' own styles: job and style ids, and where a job's files live (the jobs and
  inference functions both need it).

Only the standard library and boto3 (which the Lambda runtime provides), imported lazily.
"""
