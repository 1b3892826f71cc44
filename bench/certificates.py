"""Certificates: one render next to WeasyPrint rendering an empty A4 page with the same fonts, and
bulk rendering on one and on two processes.

Both renders run in this process with the same URL fetcher and font configuration; the floor page
declares the five shipped faces and sets one line in each, so the fonts are loaded, laid out and
embedded exactly as for a certificate: what remains is the certificate's own layout, images and QR
code. Bulk rendering (``flask certificates issue`` uses the same ``render_many``) runs on a scratch
copy of the 1,000-officer province.
"""

from __future__ import annotations

import time

from sqlalchemy import delete, select

from bench.core import Figure, Run
from bench.pages import app_for

# Certificates rendered by each bulk run. Two processes are spawned and each builds the app, imports
# WeasyPrint and loads the fonts (about 2 s) before its first PDF, while one process renders in the
# command's own warm process: with 40 certificates that start-up was a third of the run (1.09x), so
# the run is long enough for the rate a province's bulk render sees.
BULK = 160

EMPTY_A4 = """<!doctype html><html lang="vi"><head><meta charset="utf-8"><style>
@page { size: A4 landscape; margin: 0 }
@font-face { font-family: "LMS Serif"; font-weight: 400; src: url("fonts/NotoSerif-Regular.ttf"); }
@font-face { font-family: "LMS Serif"; font-weight: 700; src: url("fonts/NotoSerif-Bold.ttf"); }
@font-face { font-family: "LMS Serif"; font-weight: 400; font-style: italic; src: url("fonts/NotoSerif-Italic.ttf"); }
@font-face { font-family: "LMS Sans"; font-weight: 400; src: url("fonts/NotoSans-Regular.ttf"); }
@font-face { font-family: "LMS Sans"; font-weight: 700; src: url("fonts/NotoSans-Bold.ttf"); }
p { margin: 0 } .s { font-family: "LMS Serif" } .n { font-family: "LMS Sans" }
</style></head><body>
<p class="s">Giấy chứng nhận</p><p class="s"><b>Nguyễn Thị Bích Đào</b></p><p class="s"><i>ngày 3 tháng 12</i></p>
<p class="n">Ủy ban nhân dân tỉnh Sơn Hà</p><p class="n"><b>GIÁM ĐỐC</b></p>
</body></html>"""


def empty_page() -> bytes:
    from lms.printing import STATIC_ROOT, layout
    from lms.printing_engine import StaticOnlyURLFetcher

    return layout(EMPTY_A4, StaticOnlyURLFetcher(STATIC_ROOT)).write_pdf()


def run(ctx: Run) -> None:
    from lms.certificates import cli, services
    from lms.certificates.models import Certificate, CertificatePdf
    from lms.extensions import db

    url = ctx.scratch_copy(ctx.sizes[0], "certificates")
    app = app_for(url)
    app.config.update(PUBLIC_BASE_URL="https://lms.sonha.gov.vn", SERVER_NAME="lms.bench")
    with app.app_context():
        certificates = list(db.session.scalars(select(Certificate).order_by(Certificate.id).limit(BULK)))
        assert len(certificates) == BULK, f"the province has {len(certificates)} certificates, not {BULK}"
        services.render_certificate(certificates[0])  # warm: templates, fonts, WeasyPrint caches
        empty_page()
        turn = iter(range(10**6))

        def one() -> float:
            certificate = certificates[next(turn) % len(certificates)]
            started = time.perf_counter()
            services.render_certificate(certificate)
            return time.perf_counter() - started

        def floor() -> float:
            started = time.perf_counter()
            empty_page()
            return time.perf_counter() - started

        value, base, _a, _b = ctx.alternate(one, floor, rounds=max(5, ctx.rounds))
        ctx.add(Figure("certificates", "render one certificate PDF", value * 1000, "ms", floor=base * 1000,
                       floor_name="empty A4, same fonts", size=ctx.sizes[0], target="<= 1.5x",
                       met=value <= 1.5 * base))
        ids = [c.id for c in certificates]
        rates = {}
        for _round in range(ctx.rounds if not ctx.quick else 1):
            for workers in (1, 2):
                db.session.execute(delete(CertificatePdf))
                db.session.commit()
                result = cli.render_many(ids, workers=workers)
                if result.rendered != len(ids) or result.failed:
                    raise RuntimeError(f"bulk render: {result}")
                rates.setdefault(workers, []).append(result.per_second)
        from bench.core import median

        one_rate, two_rate = median(rates[1]), median(rates[2])
        ctx.add(Figure("certificates", f"bulk render of {BULK}, 1 process", one_rate, "certificates/s",
                       size=ctx.sizes[0], better="higher"))
        ctx.add(Figure("certificates", f"bulk render of {BULK}, 2 processes", two_rate, "certificates/s",
                       floor=one_rate, floor_name="1 process", better="higher", size=ctx.sizes[0],
                       target=">= 1.7x", met=two_rate >= 1.7 * one_rate))
        db.session.remove()
        db.engine.dispose()
