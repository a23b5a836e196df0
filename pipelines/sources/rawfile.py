"""Read a CSV or Excel file into a header and records that remember their line numbers.

This is the layer below every reader: it knows about encodings (UTF-8 with or without
BOM, UTF-16 from Excel's "Unicode text", Windows-1252 from German Excel), separators
(``,`` ``;`` tab ``|`` and Excel's ``sep=;`` hint line), quoted cells that span several
lines, and ``.xlsx`` workbooks. It keeps repeated header names as they are (Jira writes
one column per label, component, sprint or link) and records, for every record, the
physical line where it starts (header = line 1; in a workbook the sheet row number), so
that errors can point at the line a planner sees in an editor.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from models.errors import InputError, InputProblem
from pipelines.sources.values import Info

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
_DELIMITERS = (",", ";", "\t", "|")


def optional_table_file(data_dir: str | Path, name: str, keep: str = "keep one of them") -> Path | None:
    """``<data_dir>/<name>.csv`` or ``.xlsx`` if there is one, else None; both at once is an
    InputError whose fix begins with ``keep`` (e.g. which one to keep)."""
    data_dir = Path(data_dir)
    found = [data_dir / f"{name}{s}" for s in (".csv", ".xlsx") if (data_dir / f"{name}{s}").exists()]
    if len(found) > 1:
        raise InputError.single(
            found[1], f"both {found[0].name} and {found[1].name} exist.", f"{keep}, so it is clear which one is read."
        )
    return found[0] if found else None


@dataclass
class RawTable:
    """A file as header + records. Cells are ``str`` (CSV) or Python values (Excel)."""

    path: Path
    header: list[str]
    rows: list[list[object]]
    lines: list[int]  # 1-based line (or sheet row) where each record starts
    delimiter: str | None = None  # None for Excel
    encoding: str | None = None  # None for Excel
    decimal_comma: bool = False  # numbers written as 3,5 (German Excel)
    notes: list[str] = field(default_factory=list)

    @property
    def source(self) -> str:
        return str(self.path)


def read_raw(path: str | Path) -> RawTable:
    """Read ``path`` (.csv/.txt/.tsv or .xlsx) into a :class:`RawTable`.

    Raises InputError if the file is missing, empty, of an unknown type, or has records
    with more cells than the header.
    """
    path = Path(path)
    if not path.exists():
        raise InputError.single(path, "file not found.", "check the file name and folder.")
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        table = _read_excel(path)
    elif suffix in TEXT_SUFFIXES:
        table = _read_text(path)
    else:
        raise InputError.single(path, f"unknown file type '{suffix}'.", "save the table as .csv or .xlsx.")
    _fit_rows_to_header(table)
    return table


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode file bytes; returns (text, encoding name). Tries BOMs, UTF-8, then Windows-1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def sniff_delimiter(first_line: str) -> str:
    """The separator that splits the header line into the most cells (ties: comma)."""
    best, best_n = ",", 0
    for delim in _DELIMITERS:
        n = len(next(csv.reader([first_line], delimiter=delim), []))
        if n > best_n:
            best, best_n = delim, n
    return best


def _read_text(path: Path) -> RawTable:
    try:
        text, encoding = decode_bytes(path.read_bytes())
    except UnicodeDecodeError as exc:
        raise InputError.single(
            path, f"cannot decode the file: {exc}.", "save it as UTF-8 (CSV UTF-8 in Excel)."
        ) from None
    notes: list[str] = []
    if encoding in ("cp1252", "latin-1"):
        notes.append(Info(f"{path.name}: not UTF-8; read as Windows-1252 (German Excel 'CSV')."))
    text = text.lstrip("\ufeff")
    first_line, _, rest = text.partition("\n")
    first_line = first_line.rstrip("\r")
    skipped_lines = 0
    if first_line.lower().startswith("sep=") and len(first_line) >= 5:
        delimiter = first_line[4]
        text = rest
        skipped_lines = 1
        first_line = rest.partition("\n")[0].rstrip("\r")
    else:
        delimiter = sniff_delimiter(first_line)
    header: list[str] | None = None
    header_line = 0
    rows: list[list[object]] = []
    lines: list[int] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1 + skipped_lines
    try:
        for record in reader:
            this_start = start
            start = reader.line_num + 1 + skipped_lines
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = [cell.strip().lstrip("\ufeff") for cell in record]
                header_line = this_start
                continue
            rows.append(list(record))
            lines.append(this_start)
    except csv.Error as exc:
        raise InputError.single(
            path, f"the file is not valid CSV: {exc}.", 'check for an unclosed quote (") in the line before.', row=start
        ) from None
    if header is None:
        raise InputError.single(path, "the file is empty.", "export the table again with its header line.")
    if header_line != 1 + skipped_lines:
        notes.append(Info(f"{path.name}: blank lines before the header were skipped."))
    decimal_comma = delimiter == ";"
    if delimiter == ";":
        notes.append(Info(f"{path.name}: ';'-separated; numbers read with decimal commas (German Excel)."))
    return RawTable(path, header, rows, lines, delimiter, encoding, decimal_comma, notes)


def _read_excel(path: Path) -> RawTable:
    import openpyxl  # imported here: only needed for workbooks

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for broken files
        raise InputError.single(
            path, f"cannot open the workbook: {exc}.", "save it again as an Excel workbook (.xlsx)."
        ) from None
    try:
        sheet = workbook.worksheets[0]
        notes = []
        if len(workbook.worksheets) > 1:
            notes.append(f"{path.name}: read the first sheet '{sheet.title}'; other sheets ignored.")
        header: list[str] | None = None
        rows: list[list[object]] = []
        lines: list[int] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_excel_cell(v) for v in values]
            if all(c == "" for c in cells):
                continue
            if header is None:
                header = [str(c).strip() for c in cells]
                continue
            rows.append(cells)
            lines.append(number)
    finally:
        workbook.close()
    if header is None:
        raise InputError.single(
            path, "the first sheet is empty.", "put the table with its header row on the first sheet."
        )
    # drop trailing header cells that are empty (openpyxl reports the used range)
    while header and header[-1] == "":
        header.pop()
    return RawTable(path, header, rows, lines, None, None, False, notes)


def _excel_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (datetime, date)):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _fit_rows_to_header(table: RawTable) -> None:
    """Drop empty trailing cells; reject records with extra values, and text records with fewer
    cells than the header (a file cut in the middle of a row: its missing cells would silently
    become defaults). A workbook's short rows are padded: a sheet leaves trailing empty cells out."""
    width = len(table.header)
    problems: list[InputProblem] = []
    for i, row in enumerate(table.rows):
        if len(row) < width and table.delimiter is not None:
            problems.append(
                InputProblem(
                    table.source,
                    f"the line has {len(row)} cells but the header has {width}: the row ends early, "
                    f"after column '{table.header[len(row) - 1] if row else table.header[0]}'.",
                    "export the file again (was it cut off?), or complete the row; empty cells still need "
                    f"their separators ('{table.delimiter}').",
                    table.lines[i],
                    None,
                )
            )
            row.extend([""] * (width - len(row)))
        elif len(row) < width:
            row.extend([""] * (width - len(row)))
        elif len(row) > width:
            extra = row[width:]
            if any(not (isinstance(c, str) and not c.strip()) for c in extra):  # a non-empty extra cell
                problems.append(
                    InputProblem(
                        table.source,
                        f"the line has {len(row)} cells but the header has {width}.",
                        "remove the extra cells or add a header for them (check for an unquoted separator).",
                        table.lines[i],
                        None,
                    )
                )
                if len(problems) >= 50:
                    break
            del row[width:]
    if problems:
        raise InputError(problems)
