"""Quota slots: a job is accepted only once it holds one of its owner's slots and one of the stack's.

Counting a user's active records and then saving a new one is not atomic: requests that arrive together (each
in its own Lambda instance) all count the same records and are all accepted. A slot is one small object in the
store, `<prefix><n>` for n below the limit, naming the job that holds it; a request takes a slot with a
conditional write (absent: S3's If-None-Match *, or still as read: If-Match, a lock file locally), so of the
requests racing for a slot exactly one gets it.

A slot is free when it names nothing, or a job that is no longer queued or running (its record says, brought up
to date with the engine), or a job whose record is gone and whose claim is older than CLAIM_GRACE_S (a request
that claimed and was cut off before saving its record). A job's slots are released when its request fails and
when it is deleted; a finished job's slots are free because its record says it is finished."""

import json
import time

CLAIM_GRACE_S = 120  # longer than any request takes from claiming a slot to saving its record (Lambda: 29 s)


class Slots:
    def __init__(self, store, prefix: str, limit: int):
        self.store, self.prefix, self.limit = store, prefix, limit

    def claim(self, owner: str, job_id: str, holds) -> str | None:
        """Take a free slot for the job: its key, or None when every slot is held. `holds(holder)` says whether
        the job a slot names ({"owner", "job", "at"}) still holds it."""
        claim = json.dumps({"owner": owner, "job": job_id, "at": time.time()}).encode()
        for n in range(self.limit):
            key = f"{self.prefix}{n}"
            current = self.store.get_tagged(key)
            if current is not None:
                holder = holder_of(current[0])
                if holder is not None and holds(holder):
                    continue
            if self.store.put_if(key, claim, current[1] if current else None):
                return key
            # another request took this slot between our read and our write: try the next one
        return None


def holder_of(data: bytes) -> dict | None:
    """The claim a slot holds, or None for a free (released) or unreadable one."""
    try:
        holder = json.loads(data)
    except ValueError:
        return None
    if isinstance(holder, dict) and isinstance(holder.get("owner"), str) and isinstance(holder.get("job"), str) \
            and isinstance(holder.get("at"), int | float):
        return holder
    return None


def release(store, key: str, job_id: str) -> None:
    """Free the slot if it still names the job (a conditional write: never frees another job's claim)."""
    current = store.get_tagged(key)
    holder = holder_of(current[0]) if current else None
    if holder is not None and holder["job"] == job_id:
        store.put_if(key, json.dumps({"released": time.time()}).encode(), current[1])
