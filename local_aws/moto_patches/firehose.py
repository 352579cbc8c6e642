"""Firehose delivery into S3 as the Firehose Developer Guide documents it; moto 5.2 writes each
batch into S3 as it arrives, whatever the stream's configuration.

An extended S3 destination, patched, applies (page titles of the Firehose Developer Guide):

- its processors (``ProcessingConfiguration``, when ``Enabled``), in the stream's order:
  ``Decompression`` of GZIP ("Writing to Amazon Data Firehose Using CloudWatch Logs",
  decompression of CloudWatch Logs), ``MetadataExtraction``, whose jq query is run by the jq
  binary ("Partition streaming data in Amazon Data Firehose": inline parsing uses "a jq parser";
  ``JsonParsingEngine`` ``JQ-1.6``), and ``AppendDelimiterToRecord``, a newline after each record
  ("Understand data delivery in Amazon Data Firehose"). Any other processor, or a compression
  other than GZIP, is refused when the stream is created (NotImplementedError);
- its prefixes ("Understand custom prefixes for Amazon S3 objects"): ``!{timestamp:...}`` (a
  Java DateTimeFormatter pattern, UTC, the arrival time), ``!{partitionKeyFromQuery:<key>}``,
  ``!{firehose:random-string}``, ``!{firehose:error-output-type}`` (``ErrorOutputPrefix`` only);
  a prefix without a timestamp expression gets ``yyyy/MM/dd/HH/`` appended. Records whose prefix
  evaluates alike make one object: Firehose "groups records that match the same evaluated S3
  prefix expression into a single data set" (dynamic partitioning);
- its errors: a record whose keys cannot be extracted ("Troubleshoot dynamic partitioning
  errors") goes under ``ErrorOutputPrefix`` as ``partitioning-failed`` (the name AWS writes: the
  aws-cdk integration test ``integ.delivery-stream.dynamic-partitioning-lambda``, run against
  AWS, lists that prefix), one that cannot be decompressed as ``processing-failed``; each as a JSON
  document with the raw record base64-encoded, in the fields of the documented error document
  ("Handling errors for data format conversion"). AWS publishes no document or error codes for
  these two errors: the ``errorCode`` values here are this module's own;
- the object name ``<prefix><stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid><extension>``, with
  ``.gz`` for GZIP unless ``FileExtension`` says otherwise ("Configure Amazon S3 object name
  format"), and the GZIP compression itself.

The API's PutRecord and PutRecordBatch are refused on a stream with decompression: "Only requests
from CloudWatch Logs are supported when CloudWatch Logs decompression is enabled"
(InvalidSourceException, Firehose API Reference). CloudWatch Logs' own delivery
(:mod:`.logs_account_policies`) puts into the backend directly, as the service does.

Where this stops: no buffering (each batch is written at once, as if its buffer had filled), so
a real stream's objects (one per partition and buffer, up to 128 MB or 900 s) hold more; no
``CustomTimeZone``, Lambda, RecordDeAggregation, CloudWatchLogProcessing, format conversion or
other compressions; the stream's role, the bucket policy and encryption are not applied (moto's
backend writes the object itself).
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import inspect
import json
import re
import shutil
import subprocess
import uuid
import warnings
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from unittest import mock

from moto.firehose.exceptions import FirehoseException, InvalidArgumentException
from moto.firehose.models import FirehoseBackend, firehose_backends
from moto.firehose.responses import FirehoseResponse
from moto.s3.models import s3_backends

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

JQ_ENGINE: Final = "JQ-1.6"
"""The only ``JsonParsingEngine`` Firehose accepts (ProcessorParameter, API Reference)."""
DEFAULT_TIME_PREFIX: Final = "yyyy/MM/dd/HH/"
"""Appended to a prefix that has no timestamp expression ("Custom prefixes", semantic rules)."""
PARTITIONING_FAILED: Final = "partitioning-failed"
PROCESSING_FAILED: Final = "processing-failed"
RANDOM_STRING_LENGTH: Final = 11
"""``!{firehose:random-string}``: "a random string of 11 characters"."""
FILE_EXTENSIONS: Final = {"UNCOMPRESSED": "", "GZIP": ".gz"}
SUPPORTED_PROCESSORS: Final = ("Decompression", "MetadataExtraction", "AppendDelimiterToRecord")
JQ_TIMEOUT_SECONDS: Final = 30

_EXPRESSION: Final = re.compile(r"!\{([A-Za-z]+):([^}]*)\}")


class JqMissingError(RuntimeError):
    """The jq binary is not installed: the embedded Firehose cannot run a MetadataExtraction."""


class InvalidSourceException(FirehoseException):
    """PutRecord(Batch) by anything but CloudWatch Logs into a stream that decompresses."""

    def __init__(self) -> None:
        super().__init__(
            "InvalidSourceException",
            "Only requests from CloudWatch Logs are supported when CloudWatch Logs "
            "decompression is enabled.",
        )


class ExtractionError(Exception):
    """A record's partitioning keys could not be extracted."""


# -- the jq binary ----------------------------------------------------------------------------


def jq_path() -> str:
    """The jq binary; :class:`JqMissingError` naming what to install when there is none."""
    found = shutil.which("jq")
    if found is None:
        raise JqMissingError(
            "jq is not installed: the embedded Firehose runs a MetadataExtraction query with "
            f"the jq binary, as Firehose does with its {JQ_ENGINE} engine (install jq 1.6, e.g. "
            "`apt-get install jq`)"
        )
    return found


def jq_version() -> str:
    """``jq --version`` of the installed binary (``jq-1.6``)."""
    completed = subprocess.run(  # noqa: S603 - the jq binary, a fixed argument
        [jq_path(), "--version"], capture_output=True, text=True, check=True, timeout=10
    )
    return completed.stdout.strip()


def extract_keys(query: str, data: bytes) -> dict[str, str]:
    """The partitioning keys ``query`` extracts from one JSON record, as prefix text.

    ExtractionError when the record is not JSON, the query fails or does not give one object of
    scalar values.
    """
    completed = subprocess.run(  # noqa: S603 - jq with the stream's own query
        [jq_path(), "-c", query],
        input=data,
        capture_output=True,
        check=False,
        timeout=JQ_TIMEOUT_SECONDS,
    )
    if completed.returncode != 0:
        raise ExtractionError(completed.stderr.decode(errors="replace").strip())
    values = [json.loads(line) for line in completed.stdout.splitlines() if line.strip()]
    if len(values) != 1 or not isinstance(values[0], dict):
        raise ExtractionError(f"the query {query!r} gave {values!r}, not one object")
    keys: dict[str, str] = {}
    for key, value in values[0].items():
        if isinstance(value, (dict, list)):
            raise ExtractionError(f"partition key {key!r} is not a scalar: {value!r}")
        if value is not None:
            keys[str(key)] = value if isinstance(value, str) else json.dumps(value)
    return keys


# -- prefixes ---------------------------------------------------------------------------------


def format_timestamp(pattern: str, moment: dt.datetime) -> str:
    """``moment`` formatted with a Java DateTimeFormatter ``pattern`` (letters y u M d H m s,
    ``'quoted'`` text; other letters raise NotImplementedError, as the pattern is not read)."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "'":
            end = pattern.find("'", index + 1)
            if end == -1:
                raise InvalidArgumentException(f"unterminated quote in timestamp {pattern!r}")
            out.append(pattern[index + 1 : end] if end > index + 1 else "'")
            index = end + 1
        elif char.isascii() and char.isalpha():
            end = index
            while end < len(pattern) and pattern[end] == char:
                end += 1
            out.append(_date_field(char, end - index, moment, pattern))
            index = end
        else:
            out.append(char)
            index += 1
    return "".join(out)


_TWO_DIGITS: Final = 2


def _date_field(letter: str, count: int, moment: dt.datetime, pattern: str) -> str:
    if letter in "yu":  # year-of-era, year: "yy" is the reduced two-digit form
        return f"{moment.year % 100:02d}" if count == _TWO_DIGITS else f"{moment.year:0{count}d}"
    values = {
        "M": moment.month,
        "d": moment.day,
        "H": moment.hour,
        "m": moment.minute,
        "s": moment.second,
    }
    if letter in values and count <= _TWO_DIGITS:  # "M" or "MM": no month names
        return f"{values[letter]:0{count}d}"
    raise NotImplementedError(
        f"the embedded Firehose formats no {letter * count!r} (in the timestamp {pattern!r})"
    )


@dataclass(frozen=True)
class PrefixContext:
    """What a prefix's expressions evaluate to for one record."""

    arrival: dt.datetime
    keys: Mapping[str, str] = field(default_factory=dict)
    error_output_type: str | None = None


def evaluate_prefix(prefix: str, context: PrefixContext, *, default_time: bool = True) -> str:
    """The prefix with its ``!{namespace:value}`` expressions evaluated; ExtractionError when a
    partitioning key is missing. ``default_time``: append ``yyyy/MM/dd/HH/`` when the prefix has
    no timestamp expression (the rule for ``Prefix``; an ``ErrorOutputPrefix`` is taken as is)."""

    def replace(match: re.Match[str]) -> str:
        namespace, value = match[1], match[2]
        if namespace == "timestamp":
            return format_timestamp(value, context.arrival)
        if namespace == "partitionKeyFromQuery":
            if value not in context.keys:
                raise ExtractionError(f"no partition key {value!r} in {dict(context.keys)!r}")
            return context.keys[value]
        if namespace == "firehose" and value == "random-string":
            return uuid.uuid4().hex[:RANDOM_STRING_LENGTH]
        if namespace == "firehose" and value == "error-output-type":
            if context.error_output_type is None:
                raise InvalidArgumentException("Prefix can't contain !{firehose:error-output-type}")
            return context.error_output_type
        raise NotImplementedError(f"the embedded Firehose evaluates no !{{{namespace}:{value}}}")

    if default_time and "!{timestamp:" not in prefix:
        prefix = _folder(prefix) + "!{timestamp:" + DEFAULT_TIME_PREFIX + "}"
    return _EXPRESSION.sub(replace, prefix)


def _folder(prefix: str) -> str:
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def object_key(
    prefix: str, stream_name: str, version: str, arrival: dt.datetime, extension: str
) -> str:
    """``<evaluated prefix><stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid><extension>``."""
    moment = arrival.strftime("%Y-%m-%d-%H-%M-%S")
    return f"{prefix}{stream_name}-{version}-{moment}-{uuid.uuid4()}{extension}"


# -- the destination's configuration ----------------------------------------------------------


def _processors(destination: Mapping[str, Any]) -> list[tuple[str, dict[str, str]]]:
    processing = destination.get("ProcessingConfiguration") or {}
    if not processing.get("Enabled"):
        return []
    return [
        (
            str(processor["Type"]),
            {
                str(parameter["ParameterName"]): str(parameter["ParameterValue"])
                for parameter in processor.get("Parameters") or []
            },
        )
        for processor in processing.get("Processors") or []
    ]


def _partitioning(destination: Mapping[str, Any]) -> bool:
    return bool((destination.get("DynamicPartitioningConfiguration") or {}).get("Enabled"))


def decompresses(destination: Mapping[str, Any]) -> bool:
    return any(kind == "Decompression" for kind, _ in _processors(destination))


def validate_destination(destination: Mapping[str, Any]) -> None:
    """Refuse what AWS refuses ("Custom prefixes", semantic rules; dynamic partitioning needs an
    error prefix) and what this embedded Firehose cannot do (NotImplementedError)."""
    _validate_prefixes(destination)
    compression = str(destination.get("CompressionFormat") or "UNCOMPRESSED")
    if compression not in FILE_EXTENSIONS:
        raise NotImplementedError(f"the embedded Firehose does not compress with {compression}")
    for kind, parameters in _processors(destination):
        if kind not in SUPPORTED_PROCESSORS:
            raise NotImplementedError(f"the embedded Firehose runs no {kind} processor")
        if kind == "Decompression" and parameters.get("CompressionFormat", "GZIP") != "GZIP":
            raise InvalidArgumentException("Decompression supports CompressionFormat GZIP only")
        if kind == "MetadataExtraction":
            if parameters.get("JsonParsingEngine") != JQ_ENGINE:
                raise InvalidArgumentException(f"JsonParsingEngine must be {JQ_ENGINE}")
            if not parameters.get("MetadataExtractionQuery"):
                raise InvalidArgumentException("MetadataExtraction needs MetadataExtractionQuery")
            jq_path()
    extracts = any(kind == "MetadataExtraction" for kind, _ in _processors(destination))
    if "!{partitionKeyFromQuery:" in str(destination.get("Prefix") or "") and not (
        _partitioning(destination) and extracts
    ):
        raise InvalidArgumentException(
            "partitionKeyFromQuery needs dynamic partitioning and a MetadataExtraction processor"
        )


def _validate_prefixes(destination: Mapping[str, Any]) -> None:
    prefix = str(destination.get("Prefix") or "")
    error_prefix = str(destination.get("ErrorOutputPrefix") or "")
    for text in (prefix, error_prefix):
        if text.count("!{") != len(_EXPRESSION.findall(text)):
            raise InvalidArgumentException(f"!{{ can only start an expression, in {text!r}")
    if "!{firehose:error-output-type}" in prefix:
        raise InvalidArgumentException("Prefix can't contain !{firehose:error-output-type}")
    if "!{" in error_prefix and "!{firehose:error-output-type}" not in error_prefix:
        raise InvalidArgumentException(
            "ErrorOutputPrefix must contain !{firehose:error-output-type} when it has expressions"
        )
    if not error_prefix and ("!{" in prefix or _partitioning(destination)):
        raise InvalidArgumentException(
            "ErrorOutputPrefix is required with dynamic partitioning or a Prefix with expressions"
        )


# -- delivery ---------------------------------------------------------------------------------


@dataclass
class _Record:
    data: bytes
    keys: dict[str, str] = field(default_factory=dict)
    error_type: str | None = None


def _process(data: bytes, destination: Mapping[str, Any], arrival: dt.datetime) -> _Record:
    record = _Record(data)
    for kind, parameters in _processors(destination):
        if kind == "Decompression":
            try:
                record.data = gzip.decompress(record.data)
            except (OSError, EOFError) as error:
                return _failed(data, arrival, PROCESSING_FAILED, f"Decompression: {error}")
        elif kind == "MetadataExtraction":
            try:
                record.keys = extract_keys(parameters["MetadataExtractionQuery"], record.data)
                evaluate_prefix(str(destination.get("Prefix") or ""), _context(arrival, record))
            except ExtractionError as error:
                return _failed(data, arrival, PARTITIONING_FAILED, str(error))
        elif kind == "AppendDelimiterToRecord":
            record.data += b"\n"
    return record


def _failed(data: bytes, arrival: dt.datetime, error_type: str, message: str) -> _Record:
    moment = int(arrival.timestamp() * 1000)
    document = {
        "attemptsMade": 1,
        "arrivalTimestamp": moment,
        "errorCode": (
            "DynamicPartitioning.MetadataExtractionFailed"
            if error_type == PARTITIONING_FAILED
            else "Decompression.Failed"
        ),
        "errorMessage": message,
        "attemptEndingTimestamp": moment,
        "rawData": base64.b64encode(data).decode(),
    }
    return _Record(json.dumps(document).encode() + b"\n", error_type=error_type)


def _context(arrival: dt.datetime, record: _Record) -> PrefixContext:
    return PrefixContext(arrival=arrival, keys=record.keys, error_output_type=record.error_type)


def deliver(
    backend: FirehoseBackend,
    stream_name: str,
    version: str,
    destination: Mapping[str, Any],
    records: Sequence[Mapping[str, bytes]],
    *,
    arrival: dt.datetime | None = None,
) -> list[dict[str, str]]:
    """Process, partition, compress and write one batch; the PutRecordBatch responses."""
    arrival = arrival or dt.datetime.now(dt.UTC)
    groups: dict[str, list[bytes]] = {}
    for item in records:
        record = _process(bytes(item["Data"]), destination, arrival)
        prefix = str(destination.get("Prefix") or "")
        default_time = True
        if record.error_type is not None:
            # Without an ErrorOutputPrefix: "<specified-prefix><error-output-type>YYYY/MM/DD/HH/"
            error_prefix = destination.get("ErrorOutputPrefix")
            default_time = not error_prefix
            prefix = str(error_prefix or _folder(prefix) + "!{firehose:error-output-type}/")
        key_prefix = evaluate_prefix(prefix, _context(arrival, record), default_time=default_time)
        groups.setdefault(key_prefix, []).append(record.data)
    compression = str(destination.get("CompressionFormat") or "UNCOMPRESSED")
    extension = str(destination.get("FileExtension") or FILE_EXTENSIONS[compression])
    bucket = str(destination["BucketARN"]).split(":")[-1]
    s3 = s3_backends[backend.account_id][backend.partition]
    for key_prefix, chunks in groups.items():
        body = b"".join(chunks)
        if compression == "GZIP":
            body = gzip.compress(body)
        key = object_key(key_prefix, stream_name, version, arrival, extension)
        s3.put_object(bucket, key, body)
    return [{"RecordId": str(uuid.uuid4())} for _ in records]


def _put_s3_records(
    self: FirehoseBackend,
    delivery_stream_name: str,
    version_id: str,
    s3_destination: dict[str, Any],
    records: list[dict[str, bytes]],
) -> list[dict[str, str]]:
    return deliver(self, delivery_stream_name, version_id, s3_destination, records)


def _create_delivery_stream(original: Any) -> Any:
    signature = inspect.signature(original)

    def create_delivery_stream(self: FirehoseBackend, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(self, *args, **kwargs).arguments
        extended = arguments.get("extended_s3_destination_configuration")
        if extended:
            validate_destination(extended)
            uses_jq = any(kind == "MetadataExtraction" for kind, _ in _processors(extended))
            if uses_jq and (version := jq_version()) != "jq-1.6":
                warnings.warn(f"{version} stands in for Firehose's {JQ_ENGINE}", stacklevel=2)
        return original(self, *args, **kwargs)

    return create_delivery_stream


def _refuse_unless_cloudwatch_logs(original: Any) -> Any:
    def put(self: FirehoseResponse) -> Any:
        backend = firehose_backends[self.current_account][self.region]
        stream = backend.delivery_streams.get(str(self._get_param("DeliveryStreamName")))
        if stream is not None and any(
            decompresses(destination.get("ExtendedS3") or {}) for destination in stream.destinations
        ):
            raise InvalidSourceException()
        return original(self)

    return put


@contextmanager
def patched() -> Iterator[None]:
    """Firehose's processing, partitioning, prefixes and compression into S3, while entered."""
    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(FirehoseBackend, "put_s3_records", _put_s3_records))
        stack.enter_context(
            mock.patch.object(
                FirehoseBackend,
                "create_delivery_stream",
                _create_delivery_stream(FirehoseBackend.create_delivery_stream),
            )
        )
        for name in ("put_record", "put_record_batch"):
            stack.enter_context(
                mock.patch.object(
                    FirehoseResponse,
                    name,
                    _refuse_unless_cloudwatch_logs(getattr(FirehoseResponse, name)),
                )
            )
        yield
