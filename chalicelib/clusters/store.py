"""Clusters and their LSH band index in the clusters table (see docs/data-model.md).

Two item types share the table's ``pk``/``sk``:

- cluster: ``pk=cluster#<cluster_id>``, ``sk=META`` — the :class:`Cluster` fields, written
  with optimistic concurrency on ``version`` so two workers adding to one cluster never lose
  a count;
- band: ``pk=band#<band>:<hash>``, ``sk=BAND`` — ``cluster_id`` of the first cluster that had
  this band. Written once, when a cluster is created (``attribute_not_exists``: the first
  cluster keeps a band); posts that join a cluster write no bands.

- reported story: ``pk=reported``, ``sk=<cluster_id>`` — a cluster that holds a manual report
  (人工上报), with its ``signature``, ``drill`` and ``reported_at``; it lapses
  :data:`REPORTED_DAYS` after the story's last report. The scoring sink reads the whole
  partition once per batch (:meth:`ClusterStore.reported_stories`), so a post that would not be
  clustered for itself (about no subject, no crisis word) still joins a story people reported,
  for one small query per batch instead of six band reads per post.

Every worker looks up the same bands, so all of them put a repost into the same cluster.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from chalicelib.clusters.minhash import bands
from chalicelib.clusters.models import Cluster, PostSummary
from chalicelib.core.clock import iso
from chalicelib.core.dynamo import from_item, to_item
from chalicelib.core.errors import ConflictError, aws_errors
from chalicelib.core.observability import logger

META = "META"
BAND = "BAND"
REPORTED = "reported"
# Clusters and bands age out with the posts they describe.
RETENTION_DAYS = 90
# A reported story draws in the posts of its story for this long after its last report: the
# plan's longest monitoring (max_monitor_minutes) is 7 days by default.
REPORTED_DAYS = 7
_BATCH_GET = 100


@dataclass(frozen=True)
class ReportedStory:
    """A cluster that holds a manual report, as the sink compares posts with it."""

    cluster_id: str
    signature: tuple[int, ...]
    drill: bool


def cluster_key(cluster_id: str) -> dict[str, str]:
    return {"pk": f"cluster#{cluster_id}", "sk": META}


def band_key(band: str) -> dict[str, str]:
    return {"pk": f"band#{band}", "sk": BAND}


class ClusterStore:
    """Data access for the clusters table; takes the boto3 ``Table`` in the constructor."""

    def __init__(self, table: Any) -> None:
        self._table = table

    # -- bands ------------------------------------------------------------------------------
    def clusters_with_bands(self, bands: Iterable[str]) -> dict[str, str]:
        """band → cluster id, for the bands that some cluster already has."""
        wanted = list(dict.fromkeys(bands))
        found: dict[str, str] = {}
        client = self._table.meta.client
        name = self._table.name
        for start in range(0, len(wanted), _BATCH_GET):
            # The resource's client converts plain values both ways, like the Table does.
            keys = [band_key(b) for b in wanted[start : start + _BATCH_GET]]
            request: dict[str, Any] = {
                name: {"Keys": keys, "ProjectionExpression": "pk, cluster_id"}
            }
            for _ in range(5):
                with aws_errors("clusters table"):
                    answer = client.batch_get_item(RequestItems=request)
                for row in answer.get("Responses", {}).get(name, []):
                    found[str(row["pk"]).removeprefix("band#")] = str(row["cluster_id"])
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
        return found

    def add_bands(self, bands: Iterable[str], cluster_id: str, expires_at: int) -> int:
        """Claim bands for a new cluster; a band another cluster has stays theirs. Writes made."""
        writes = 0
        for band in bands:
            try:
                with aws_errors("clusters table"):
                    self._table.put_item(
                        Item={**band_key(band), "cluster_id": cluster_id, "expires_at": expires_at},
                        ConditionExpression="attribute_not_exists(pk)",
                    )
                writes += 1
            except ConflictError:
                continue
        return writes

    # -- reported stories -------------------------------------------------------------------
    def mark_reported(self, cluster: Cluster, at: datetime) -> None:
        """Record that people reported this cluster's story (again): it draws its posts in
        for :data:`REPORTED_DAYS` from now. Idempotent; a repeat only moves the time on."""
        with aws_errors("clusters table"):
            self._table.put_item(
                Item=to_item(
                    {
                        "pk": REPORTED,
                        "sk": cluster.id,
                        "cluster_id": cluster.id,
                        "signature": list(cluster.signature),
                        "drill": cluster.drill,
                        "reported_at": iso(at),
                        "expires_at": int(at.timestamp()) + REPORTED_DAYS * 86400,
                    }
                )
            )

    def reported_stories(self, now: datetime, *, consistent: bool = False) -> list[ReportedStory]:
        """The stories reported in the last :data:`REPORTED_DAYS`: one query (a 1 MB page,
        some 3,000 stories; a longer list is cut, with a warning)."""
        with aws_errors("clusters table"):
            answer = self._table.query(
                KeyConditionExpression=Key("pk").eq(REPORTED),
                # TTL deletes late (and moto never): lapsed stories are filtered out here.
                FilterExpression=Attr("expires_at").gt(int(now.timestamp())),
                ProjectionExpression="cluster_id, signature, drill",
                ConsistentRead=consistent,
            )
        if answer.get("LastEvaluatedKey"):
            logger.warning("reported stories cut to one page", extra={"kept": answer["Count"]})
        return [
            ReportedStory(
                cluster_id=str(row["cluster_id"]),
                signature=tuple(int(v) for v in row.get("signature", [])),
                drill=bool(row.get("drill", False)),
            )
            for row in answer.get("Items", [])
        ]

    # -- clusters ---------------------------------------------------------------------------
    def get(self, cluster_id: str) -> Cluster | None:
        with aws_errors("clusters table"):
            item = self._table.get_item(Key=cluster_key(cluster_id), ConsistentRead=True).get(
                "Item"
            )
        return _from_record(from_item(item)) if item else None

    def save(self, cluster: Cluster, expires_at: int) -> Cluster:
        """Write a cluster whose stored version is ``cluster.version`` (0: not stored yet).

        Raises :class:`ConflictError` if another worker wrote it first; the caller re-reads
        and merges again. Returns the cluster with its new version.
        """
        stored = Cluster(**{**cluster.__dict__, "version": cluster.version + 1})
        record = {**cluster_key(cluster.id), **_to_record(stored), "expires_at": expires_at}
        if cluster.version == 0:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":v": cluster.version},
            }
        with aws_errors("clusters table"):
            self._table.put_item(Item=to_item(record), **condition)
        return stored


def _to_record(cluster: Cluster) -> dict[str, Any]:
    return {
        "cluster_id": cluster.id,
        "story": cluster.story,
        "signature": list(cluster.signature),
        # No band_keys: they follow from the signature (and drill) and only a new cluster,
        # which has them in memory, writes bands. Every byte here is paid on every write.
        "first_seen": iso(cluster.first_seen),
        "last_seen": iso(cluster.last_seen),
        "count": cluster.count,
        "platforms": list(cluster.platforms),
        "subjects": list(cluster.subjects),
        # DynamoDB map keys are strings.
        "windows": {str(k): v for k, v in cluster.windows.items()},
        "growth": cluster.growth,
        "max_risk": cluster.max_risk,
        "level": cluster.level,
        "top_posts": [p.as_dict() for p in cluster.top_posts],
        "drill": cluster.drill,
        "version": cluster.version,
    }


def _band_keys(record: dict[str, Any]) -> list[str]:
    prefix = "d" if record.get("drill") else ""
    return [prefix + key for key in bands(tuple(int(v) for v in record.get("signature", [])))]


def _from_record(record: dict[str, Any]) -> Cluster:
    return Cluster(
        id=record["cluster_id"],
        story=record.get("story", ""),
        signature=tuple(int(v) for v in record.get("signature", [])),
        band_keys=tuple(record.get("band_keys") or _band_keys(record)),
        first_seen=datetime.fromisoformat(record["first_seen"]),
        last_seen=datetime.fromisoformat(record["last_seen"]),
        count=int(record.get("count", 0)),
        platforms=tuple(record.get("platforms", [])),
        subjects=tuple(record.get("subjects", [])),
        windows={int(k): int(v) for k, v in record.get("windows", {}).items()},
        growth=float(record.get("growth", 1.0)),
        max_risk=float(record.get("max_risk", 0.0)),
        level=record.get("level"),
        top_posts=tuple(
            PostSummary(
                post_id=p["post_id"],
                title=p.get("title", ""),
                risk=float(p.get("risk", 0.0)),
                platform=p.get("platform", "other"),
                url=p.get("url"),
            )
            for p in record.get("top_posts", [])
        ),
        drill=bool(record.get("drill", False)),
        version=int(record.get("version", 0)),
    )
