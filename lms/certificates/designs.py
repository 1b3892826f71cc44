"""Which design a certificate is issued with, and what images a design may carry. Pure: plain data in and out.

A design is a layout (one of ``LAYOUTS``), the issuer, the signer and optionally a seal and a signature
image. It comes from the first of these that gives one, nearest the certificate first:

1. the template assigned to the course;
2. the course's own certificate settings (issuer, signer, seal in ``course.certificate``), when it has any;
3. the template of the officer's agency, or of its nearest ancestor that has one;
4. the installation-wide template;
5. the built-in design (the classic layout, the province as issuer).

A certificate copies the chosen design when it is issued (``Certificate.template_snapshot``), so that a
template edited or deleted later never changes a certificate already printed.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from lms.i18n import N_, _


class Layout(NamedTuple):
    """A built-in certificate layout: its print template, its name and a line for administrators."""

    template: str
    label: str
    description: str


# Every layout is A4 landscape, prints the QR code and the code, and fits the same texts.
LAYOUTS: dict[str, Layout] = {
    "classic": Layout("certificates/print/certificate.html", N_("Classic"),
                      N_("red and gold frame, national emblem, the look of official papers")),
    "modern": Layout("certificates/print/certificate_modern.html", N_("Modern"),
                     N_("a deep blue band on the left, sans-serif headings, generous white space")),
    "plain": Layout("certificates/print/certificate_plain.html", N_("Plain"),
                    N_("a single fine rule, black ink only: prints well on any office printer")),
}
DEFAULT_LAYOUT = "classic"

SOURCES = ("course_template", "course", "agency", "installation", "builtin")
SOURCE_LABELS = {
    "course_template": N_("the course's template"),
    "course": N_("the course's certificate settings"),
    "agency": N_("the agency's template"),
    "installation": N_("the installation-wide template"),
    "builtin": N_("the built-in design"),
}


@dataclass(frozen=True)
class Design:
    """What a certificate is printed with; texts by language (vi, en), images by id in certificate_image."""

    source: str
    layout: str = DEFAULT_LAYOUT
    issuer: Mapping[str, str] = field(default_factory=dict)
    signer_name: str = ""
    signer_title: Mapping[str, str] = field(default_factory=dict)
    seal_image_id: int | None = None
    signature_image_id: int | None = None
    seal_path: str | None = None  # a course asset (course settings only)
    template_id: int | None = None
    template_name: str = ""

    def snapshot(self) -> dict[str, Any]:
        """The JSON kept on the certificate: where the design came from and what it said."""
        return {
            "source": self.source, "template_id": self.template_id, "template_name": self.template_name,
            "layout": self.layout, "issuer": dict(self.issuer), "signer_name": self.signer_name,
            "signer_title": dict(self.signer_title), "seal_image_id": self.seal_image_id,
            "signature_image_id": self.signature_image_id, "seal_path": self.seal_path,
        }


def course_settings_design(settings: Mapping[str, Any] | None) -> Design | None:
    """The design the course's own certificate settings give, or None when they name no issuer or signer."""
    settings = settings or {}
    issuer = {k: v for k, v in (settings.get("issuer") or {}).items() if v}
    title = {k: v for k, v in (settings.get("signer_title") or {}).items() if v}
    name = settings.get("signer_name") or ""
    if not (issuer or title or name or settings.get("seal")):
        return None
    return Design(source="course", issuer=issuer, signer_name=name, signer_title=title,
                  seal_path=settings.get("seal") or None)


def resolve_design(
    *,
    course_template: Design | None,
    course_settings: Mapping[str, Any] | None,
    agency_templates: Sequence[Design],
    installation_template: Design | None,
    builtin: Design,
) -> Design:
    """The design a certificate is issued with; ``agency_templates`` are ordered nearest agency first."""
    for candidate in (
        course_template,
        course_settings_design(course_settings),
        agency_templates[0] if agency_templates else None,
        installation_template,
    ):
        if candidate is not None:
            return candidate
    return builtin


def nearest_first(path: str) -> list[int]:
    """Agency ids of a materialised path ``/1/5/9/``, the agency itself first: ``[9, 5, 1]``."""
    return [int(part) for part in reversed(path.strip("/").split("/")) if part.isdigit()]


def order_by_nearest(designs: Mapping[int, Design], path: str) -> list[Design]:
    """The designs of ``designs`` (keyed by agency id) that lie on ``path``, nearest agency first."""
    return [designs[agency_id] for agency_id in nearest_first(path) if agency_id in designs]


def with_source(design: Design, source: str) -> Design:
    return replace(design, source=source)


# Images ------------------------------------------------------------------------------------------

MAX_IMAGE_BYTES = 1024 * 1024
MAX_IMAGE_PIXELS = 2000  # per side: a seal prints 29 mm wide, 2000 px is over 1700 dpi
MIN_IMAGE_PIXELS = 32
IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}


class ImageRejected(ValueError):
    """An uploaded image was refused; the message says why, in the user's language."""


@dataclass(frozen=True)
class CheckedImage:
    mime_type: str
    width: int
    height: int


def check_image(body: bytes) -> CheckedImage:
    """Accept a PNG or JPEG by its content (magic bytes, then Pillow decodes it), within size and pixel caps.

    The file name and the browser's content type are ignored: a text file called seal.png is refused.
    """
    if not body:
        raise ImageRejected(_("The file is empty."))
    if len(body) > MAX_IMAGE_BYTES:
        raise ImageRejected(_("The image is %(size)s KB; at most %(max)s KB is accepted.",
                              size=(len(body) + 1023) // 1024, max=MAX_IMAGE_BYTES // 1024))
    if not (body.startswith(b"\x89PNG\r\n\x1a\n") or body.startswith(b"\xff\xd8\xff")):
        raise ImageRejected(_("This file is not a PNG or JPEG image (its content says otherwise, "
                              "whatever its name). Save the seal or signature as PNG or JPEG."))
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(body)) as image:
            kind, (width, height) = image.format, image.size
            if width > MAX_IMAGE_PIXELS or height > MAX_IMAGE_PIXELS:
                raise ImageRejected(_(
                    "The image is %(width)s × %(height)s pixels; at most %(max)s pixels on each side is "
                    "accepted.", width=width, height=height, max=MAX_IMAGE_PIXELS))
            image.load()  # decode it all: a truncated or corrupt file fails here, not when printing
    except ImageRejected:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ImageRejected(_("The image could not be read: the file is damaged or not really a PNG "
                              "or JPEG image.")) from error
    if kind not in IMAGE_TYPES:
        raise ImageRejected(_("This file is not a PNG or JPEG image (its content says otherwise, "
                              "whatever its name). Save the seal or signature as PNG or JPEG."))
    if width < MIN_IMAGE_PIXELS or height < MIN_IMAGE_PIXELS:
        raise ImageRejected(_("The image is only %(width)s × %(height)s pixels; it needs at least "
                              "%(min)s pixels on each side to print clearly.",
                              width=width, height=height, min=MIN_IMAGE_PIXELS))
    return CheckedImage(IMAGE_TYPES[kind], width, height)
