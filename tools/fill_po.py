"""Fill a .po catalog from a dict of translations: `python tools/fill_po.py CATALOG.po MODULE`.

MODULE is a Python file defining T = {msgid: msgstr} (plural msgids are (singular, plural) tuples
mapping to a tuple of plural forms). Existing translations are kept unless the dict has one; the
script reports msgids still untranslated so that nothing slips through.
"""

from __future__ import annotations

import runpy
import sys

from babel.messages.pofile import read_po, write_po


def main(po_path: str, module_path: str) -> int:
    table = runpy.run_path(module_path)["T"]
    with open(po_path, "rb") as handle:
        catalog = read_po(handle)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        if message.id in table:
            message.string = table[message.id]
            message.flags.discard("fuzzy")
        elif not message.string or (isinstance(message.string, tuple) and not all(message.string)):
            missing.append(message.id)
    with open(po_path, "wb") as handle:
        write_po(handle, catalog, width=100)
    for msgid in missing:
        print(f"untranslated: {msgid!r}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
