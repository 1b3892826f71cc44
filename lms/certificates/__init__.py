"""Certificates: proof, on paper and online, that an officer completed a course.

When an officer passes the final assessment of an assigned course, lms issues a certificate in the
name of the issuing agency (usually the provincial department that runs the training plan). The
certificate is printed as a PDF that looks like any other document the province issues: national motto,
the agency's heading, a formal place-and-date line, the signer's title, name and seal. An HR manager can
also print a transcript listing every course an officer has completed.

Every certificate carries a code (``codes.py``) and a QR code pointing at the public verification page,
where an inspector or employer sees at once whether the certificate is valid, expired or revoked. Codes
are random, so they cannot be guessed or enumerated, and self-checking, so a mistyped code is reported as
a typo instead of as "not found".

This package's pure core takes plain data and returns plain data: ``codes.py`` (making and checking
codes), ``dates.py`` (formal and short dates in Vietnamese and English) and ``pdf.py`` (certificate and
transcript PDFs rendered by WeasyPrint from ``templates/certificates/print/``, with fonts shipped in
``lms/static/fonts`` and a URL fetcher that never leaves the static folder).
"""

from __future__ import annotations

from flask import Flask


def connect(app: Flask) -> None:
    """Issue a certificate when a course is completed; the panel, the row link and the menu entries."""
    from lms import policy, signals, ui
    from lms.certificates import services
    from lms.i18n import N_

    signals.course_completed.connect(services.issue_certificate, weak=False)
    # A merged agency's certificate template goes with its officers (designs.resolve_design).
    signals.agency_merge_preview.connect(services.count_agency_template, weak=False)
    signals.agency_merged.connect(services.move_agency_template, weak=False)
    ui.add_nav(app, "certificates.mine", N_("My certificates"),
               lambda u: policy.can(u, "certificates.view_own"), 30)
    ui.add_nav(app, "certificates.manage", N_("Certificates"),
               lambda u: policy.can(u, "certificates.manage"), 65)
    ui.add_dashboard_panel(app, "certificates/_panel.html", lambda u: policy.can(u, "certificates.view_own"), 30)
    ui.add_completed_row_extra(app, "certificates/_training_row.html")
    ui.add_course_done_extra(app, "certificates/_course_done.html")
