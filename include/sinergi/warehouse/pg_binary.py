"""Arrow record batches in PostgreSQL's binary ``COPY`` format, built by Arrow and numpy.

Why: the district loads stream every judged row into PostgreSQL, one district after another
under ``sinergi run``. PostgreSQL's CSV reader parses every field as text (quotes, delimiters,
``date`` and integer input functions); its binary reader copies bytes that are already in the
column's own send format. Measured on one district's roster (144,059 rows, 13 columns, the
province month): ``COPY … (format csv)`` 0.29-0.33 s in the server, ``(format binary)``
0.16-0.18 s; with the client's encoding 0.35-0.39 s vs 0.25-0.27 s in all, and the loaded
rows identical (md5 of the table's text). docs/performance.md has the whole measurement.

How: a binary COPY row is a 16-bit field count, then per field a 32-bit length (-1 for NULL)
and the value's bytes, all big-endian. Each column becomes an Arrow ``binary`` array whose
element is one row's "length + value" (numpy writes the fixed-width values, the strings keep
their own bytes), and Arrow's ``binary_join_element_wise`` concatenates a row's fields in C++:
no Python per row or per value.

Only the Arrow types the spill files hold (``sinergi.warehouse.spill``: ``date32``, ``string``,
``int32``, ``int64``, ``timestamp[us, UTC]``, ``bool``) are encoded; :func:`encodable` says
whether a schema is made of them, and the caller uses CSV for anything else.
"""

from __future__ import annotations

import struct

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: The file header: signature, flags (no OIDs), header extension length.
HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
#: The end of the data: a field count of -1.
TRAILER = struct.pack("!h", -1)

_DAYS_1970_TO_2000 = 10_957  # PostgreSQL counts dates and timestamps from 2000-01-01
_MICROSECONDS_1970_TO_2000 = 946_684_800 * 1_000_000
_NULL_LENGTH = b"\xff\xff\xff\xff"


def encodable(schema: pa.Schema) -> bool:
    """True when every field has a type :func:`encode` writes."""
    return all(_fixed_width(field.type) is not None or _is_text(field.type) for field in schema)


def encode(batch: pa.RecordBatch) -> memoryview:
    """The binary COPY rows of ``batch`` (without :data:`HEADER` and :data:`TRAILER`)."""
    count = batch.num_rows
    field_count = _fixed_pieces(np.full(count, batch.num_columns, dtype=">i2"), 2)
    pieces = [field_count]
    for column in batch.columns:
        pieces += _field(column)
    rows = pc.binary_join_element_wise(*pieces, b"")
    offsets = np.frombuffer(
        rows.buffers()[1], dtype=np.int32, count=count + 1, offset=rows.offset * 4
    )
    return memoryview(rows.buffers()[2])[int(offsets[0]) : int(offsets[-1])]


def _is_text(arrow_type: pa.DataType) -> bool:
    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)


def _fixed_width(arrow_type: pa.DataType) -> int | None:
    """Bytes of the send format of a fixed-width type, None when not supported."""
    if pa.types.is_date32(arrow_type) or pa.types.is_int32(arrow_type):
        return 4
    if pa.types.is_int64(arrow_type):
        return 8
    if (
        pa.types.is_timestamp(arrow_type)
        and arrow_type.unit == "us"
        and arrow_type.tz in {"UTC", "+00:00"}
    ):
        return 8
    if pa.types.is_boolean(arrow_type):
        return 1
    return None


def _field(column: pa.Array) -> list[pa.Array]:
    """One column as Arrow binary arrays whose elements, joined, are each row's field."""
    nulls = (
        column.is_null().to_numpy(zero_copy_only=False)
        if column.null_count
        else np.zeros(len(column), dtype=bool)
    )
    if _is_text(column.type):
        lengths = pc.binary_length(column).fill_null(-1).to_numpy(zero_copy_only=False)
        return [_fixed_pieces(lengths.astype(">i4"), 4), column.fill_null("").cast(pa.binary())]
    arrow_type = column.type
    if pa.types.is_boolean(arrow_type):
        values = column.fill_null(False).to_numpy(zero_copy_only=False).astype(np.uint8)
    elif pa.types.is_date32(arrow_type):
        days = column.cast(pa.int32()).fill_null(0).to_numpy()
        values = (days.astype(np.int64) - _DAYS_1970_TO_2000).astype(">i4")
    elif pa.types.is_timestamp(arrow_type):
        stamps = column.cast(pa.int64()).fill_null(0).to_numpy()
        values = (stamps - _MICROSECONDS_1970_TO_2000).astype(">i8")
    else:
        values = (
            column.fill_null(0).to_numpy().astype(">i4" if pa.types.is_int32(arrow_type) else ">i8")
        )
    return [_length_and_value(values, nulls, _fixed_width(arrow_type))]


def _fixed_pieces(values: np.ndarray, width: int) -> pa.Array:
    """A binary array of ``width``-byte elements: row i is ``values[i]``'s bytes."""
    count = len(values)
    offsets = np.arange(0, width * count + 1, width, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.binary(), count, [None, pa.py_buffer(offsets), pa.py_buffer(values.tobytes())]
    )


def _length_and_value(values: np.ndarray, nulls: np.ndarray, width: int) -> pa.Array:
    """A fixed-width column's fields: the length ``width`` and the value, or -1 for NULL."""
    count = len(values)
    matrix = np.empty((count, 4 + width), dtype=np.uint8)
    matrix[:, :4] = np.frombuffer(struct.pack("!i", width), dtype=np.uint8)
    matrix[:, 4:] = np.frombuffer(values.tobytes(), dtype=np.uint8).reshape(count, width)
    lengths = np.full(count, 4 + width, dtype=np.int32)
    if nulls.any():
        matrix[nulls, :4] = np.frombuffer(_NULL_LENGTH, dtype=np.uint8)
        lengths[nulls] = 4
        keep = np.ones(matrix.shape, dtype=bool)
        keep[nulls, 4:] = False
        data = matrix[keep]
    else:
        data = matrix.reshape(-1)
    offsets = np.zeros(count + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.Array.from_buffers(
        pa.binary(), count, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
