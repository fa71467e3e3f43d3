"""A failed training job's error as a sentence for the person who started it, from the end of its log.

The log ends with whatever stopped the trainer: often a Python traceback (urllib.error.URLError when the loss
network's weights had to be downloaded on a machine that cannot, a WeightsError, a MemoryError). Those words
are for whoever runs the stack, not for the job's owner: the record gets a sentence that says what happened
and what to do, and the log keeps the details. training/job.py writes its own sentences as
`training.job: error: ...` lines; those are used as they are."""

import re

JOB_ERROR = re.compile(r"^training\.job: error: (.+)$", re.MULTILINE)
WEIGHTS_HINT = ("build them once with `make vgg-weights` (make dev-train does), then start the job again")
# (what the log says, the sentence): the first that matches wins, so the most specific come first
KNOWN = (
    (re.compile(r"VGG weights file not found|not a VGG16 weights file|not a readable PyTorch weights file"),
     "The loss network's weights (VGG16) are missing or unreadable on this machine: " + WEIGHTS_HINT + "."),
    (re.compile(r"URLError|urlopen error|HTTPError|ConnectionError|Temporary failure in name resolution"),
     "The trainer could not download the loss network's weights (VGG16), as this machine could not reach "
     "the download: " + WEIGHTS_HINT + "."),
    (re.compile(r"no (readable )?images? .*under|no image in the dataset could be decoded"),
     "The trainer found no photos to learn from: check the stack's training photos (--training-photos)."),
    (re.compile(r"MemoryError|out of memory|OutOfMemoryError"),
     "Training ran out of memory on this machine: close other programs, or try again when it is less busy."),
    (re.compile(r"No space left on device"),
     "Training stopped because the disk is full: free some space, then start the job again."),
)
KILLED = -9


def failure_sentence(log_tail: str, code: int) -> str:
    """The sentence for a job whose trainer or exporter exited with `code` (not 0), its log ending `log_tail`."""
    own = JOB_ERROR.findall(log_tail)
    if own:
        return own[-1].strip()[:300]
    for pattern, sentence in KNOWN:
        if pattern.search(log_tail):
            return sentence
    if code == KILLED:
        return ("The trainer was stopped by the system (SIGKILL), most often because the machine ran out of "
                "memory: try again when it is less busy.")
    return (f"Training stopped with an error (exit status {code}) before the style was finished; the job's log "
            "(job.log in its run folder) says what happened.")
