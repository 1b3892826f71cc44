"""What a web worker loads when it starts: the PDF, spreadsheet and chart libraries wait for the first
document that needs them (WeasyPrint alone is a third of a worker's memory)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("weasyprint", "openpyxl", "pygal")

PROBE = textwrap.dedent("""
    import json, sys
    from lms import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "TESTING": True})
    loaded = lambda: sorted(m for m in sys.argv[1:] if m in sys.modules)
    at_start = loaded()
    from lms.spreadsheets import text_xlsx
    from lms.printing import layout, static_fetcher
    fetcher = static_fetcher()
    pdf = layout("<p>x</p>", fetcher).write_pdf()
    xlsx = text_xlsx([["a"]], "t")
    print(json.dumps({"at_start": at_start, "after": loaded(),
                      "pdf": pdf[:5].decode(), "xlsx": xlsx[:2].decode()}))
""")


def test_create_app_loads_no_pdf_spreadsheet_or_chart_library_until_a_document_needs_one():
    out = subprocess.run([sys.executable, "-c", PROBE, *HEAVY], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["at_start"] == []
    assert result["after"] == ["openpyxl", "weasyprint"]
    assert result["pdf"] == "%PDF-" and result["xlsx"] == "PK"
