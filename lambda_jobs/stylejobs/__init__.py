"""Training jobs for users' own styles, the jobs function's own package: the job records, the quota, the
painting check, progress, and the two engines that start the training job (training/job.py: the project's
trainer, then its exporter): a local worker on this machine's CPU (`make dev`) and SageMaker training jobs on AWS.

    jobs.py       the Job record, its states, the schedule it trains on, the job's arguments, the quota
    slots.py      where its quota slots live (apicommon.slots and apicommon.store claim them atomically)
    painting.py   a painting as uploaded -> a checked RGB PNG (or a JobError)
    progress.py   metrics.jsonl and samples/ -> step, losses, time left, the latest preview
    service.py    what the routes do: submit, get, list, cancel, finish early ("Use it now"), delete a style
    local.py      the local engine: one job at a time, queued, resumed after a restart
    sagemaker.py  the AWS engine: CreateTrainingJob (managed spot, max runtime, max steps), describe, stop;
                  a stopped job asked to finish gets the style from its model artifact

Nothing here imports torch; the job itself runs in the training process, from training/.
"""
