"""Contractors' spreadsheets (台账, XLSX or CSV with Chinese headers) in and out of the inventory.

A strict column-mapping file (``mappings/default-zh.yaml``) says which header is which model field
and how labels such as 枪机 or 在用 translate to codes. A workbook has one sheet per object kind
(区县, 运维单位, 乡镇, 行政村, 点位, 设备, 光纤链路; each optional). As CSV, the devices sheet is the
named file and the others sit beside it as ``<stem>-<sheet>.csv``.

Import merges rows into an inventory directory: new objects are added, existing ones (same id)
updated with the non-empty cells of the row. Every row that cannot be imported is reported, one
line each with its row number; the merged result is then written to a scratch directory and
loaded with the normal loader, so the usual validation applies before anything is replaced.
"""

from .apply import import_spreadsheet, validate_merged, write_files
from .cli import cmd_export, cmd_import, register
from .convert import Importer, ImportResult, merge_tables
from .export import export_inventory, export_sheets, write_csv, write_xlsx
from .mapping import DEFAULT_MAPPING, Mapping, SheetMap, load_mapping
from .reading import Table, cell_text, read_csv, read_tables, read_xlsx
from .rows import Row

__all__ = [
    "DEFAULT_MAPPING",
    "ImportResult",
    "Importer",
    "Mapping",
    "Row",
    "SheetMap",
    "Table",
    "cell_text",
    "cmd_export",
    "cmd_import",
    "export_inventory",
    "export_sheets",
    "import_spreadsheet",
    "load_mapping",
    "merge_tables",
    "read_csv",
    "read_tables",
    "read_xlsx",
    "register",
    "validate_merged",
    "write_csv",
    "write_files",
    "write_xlsx",
]
