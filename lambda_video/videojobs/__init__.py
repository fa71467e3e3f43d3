"""Video jobs, the video function's own package: a clip in, a stylized clip with its sound out.

    limits.py   what a clip may be, the chunk size, the result's codecs: written once
    media.py    PyAV: probe a clip, plan the result, stylize a range of frames into a chunk, join the chunks
    jobs.py     the record, its states, where its files live
    work.py     the four steps (begin, stylize_chunk, finish, fail): the local worker and the AWS workflow
    service.py  what the routes do: create with a presigned upload, start, view, cancel or delete; quotas
    engines.py  who runs the steps: a worker thread (the local stack) or a Step Functions execution

A test or a tool makes a job as the routes do:

    service = VideoService(S3Store(bucket), engine, stylecore.StyleRegistry.from_dir("models"))
    job, upload = service.create("local", {"style": "great_wave"}, size, "video/mp4", "clip.mp4")
    store.upload(path, jobs.source_key(job.owner, job.id), "video/mp4")   # what the browser's POST does
    service.start(job.owner, job.id)    # checked, planned, queued: engine.submit(job)

Nothing here imports torch; stylizing is the inference core's (stylecore).
"""
