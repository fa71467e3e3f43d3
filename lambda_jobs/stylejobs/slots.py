"""Where the training jobs' quota slots live (apicommon.slots claims them atomically)."""


def user_slots_prefix(owner: str) -> str:
    return f"users/{owner}/_active/"  # not a record: records are users/<owner>/<job id>.json


STACK_SLOTS_PREFIX = "jobs/_active/"  # "_" is not in a job id, so no job's prefix holds these
