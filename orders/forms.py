"""Forms of the ordering pages. Every field says what is wrong in plain language."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from cards.models import CardType
from cards.photos import CropBox, PhotoRejected, photo_normalise
from cards.services import REPLACEABLE_REASONS, RevocationReason
from hmsportal.forms import EMAIL_ERROR_MESSAGES
from hmsportal.models import User
from orders.billing import DeliveryAddress
from orders.bulk import BULK_UPLOAD_MAX_BYTES
from orders.models import UploadStash
from orders.services import id_document_extension
from orders.stash import stash_get
from registry.facts import EmployeeListing
from registry.identifiers import InvalidIdentifier, parse_national_id, validate_orgnr

INVALID_ORGNR = _(
    "The organisation number is not valid. It has 9 digits; check that you typed it right."
)
INVALID_NATIONAL_ID = _(
    "The national identity number is not valid. It has 11 digits; check that you typed it right."
)


def _check_size(upload: UploadedFile) -> None:
    if upload.size is not None and upload.size > settings.UPLOAD_MAX_BYTES:
        raise forms.ValidationError(
            _("The file is too large. It can be at most %(size)s.")
            % {"size": filesizeformat(settings.UPLOAD_MAX_BYTES)}
        )


class OrganisationLookupForm(forms.Form):
    """Go straight to an employer by organisation number."""

    orgnr = forms.CharField(
        label=_("Organisation number"),
        help_text=_("9 digits"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={
            "required": _("Enter the organisation number."),
            "max_length": INVALID_ORGNR,
        },
    )

    def clean_orgnr(self) -> str:
        try:
            return validate_orgnr(self.cleaned_data["orgnr"])
        except InvalidIdentifier:
            raise forms.ValidationError(INVALID_ORGNR) from None


ID_DOCUMENT_KIND_ERROR = _("The ID document must be a PDF, JPEG or PNG file.")


def employee_choice_value(listing: EmployeeListing) -> str:
    return f"{listing.employment.national_id}:{listing.employment.workplace_orgnr}"


@dataclass(frozen=True, slots=True)
class KeptFile:
    """A file kept from an earlier try of the form (orders.stash): its key and name."""

    key: str
    name: str


@dataclass(frozen=True, slots=True)
class FileToKeep:
    """A valid file of a form that came back with an error, for orders.stash.stash_put."""

    kind: str
    content: bytes
    name: str
    content_type: str


ID_DOCUMENT_CONTENT_TYPES = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".png": "image/png"}


# Who uploads the photo and the ID document: the orderer now, or the employee by a link.
FILES_NOW = "now"
FILES_FROM_EMPLOYEE = "employee"


class CardOrderForm(forms.Form):
    """One card for one employee: who, which card, a photo and a copy of the ID document.

    The hidden fields come first so they are cleaned before the files: the keys of files
    kept from an earlier try (orders.stash) and the crop box the page's script wrote
    (cards.photos.CropBox; empty without JavaScript, which means the centred crop). They are
    never wrong in a way the person could fix, so they never carry an error: a bad key is no
    key, a bad box is no box.
    """

    photo_stash = forms.CharField(required=False, widget=forms.HiddenInput)
    id_document_stash = forms.CharField(required=False, widget=forms.HiddenInput)
    crop_x = forms.CharField(required=False, widget=forms.HiddenInput)
    crop_y = forms.CharField(required=False, widget=forms.HiddenInput)
    crop_width = forms.CharField(required=False, widget=forms.HiddenInput)
    employee = forms.ChoiceField(
        label=_("Employee"),
        error_messages={
            "required": _("Choose the employee the card is for."),
            "invalid_choice": _(
                "Choose an employee from the list. The person must be registered as employed in Aa-registeret."
            ),
        },
    )
    card_type = forms.ModelChoiceField(
        label=_("Card type"),
        queryset=CardType.objects.none(),
        empty_label=None,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={
            "required": _("Choose the card type."),
            "invalid_choice": _("Choose a card type from the list."),
        },
    )
    # Not required as fields: a file kept from an earlier try counts (clean_photo).
    files_from = forms.ChoiceField(
        label=_("Photo and ID document"),
        choices=[
            (FILES_NOW, _("Upload the photo and ID now")),
            (FILES_FROM_EMPLOYEE, _("Send the employee a link")),
        ],
        # Absent means "now": the form as it was before the employee could upload.
        required=False,
        initial=FILES_NOW,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={"invalid_choice": _("Choose who uploads the photo and ID document.")},
    )
    photo = forms.FileField(
        label=_("Photo of the employee"),
        help_text=_(
            "A recent passport-style photo, JPEG or PNG, at least 413 × 531 pixels, at most 10 MB."
        ),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png"}),
        error_messages={
            "required": _("Upload a photo of the employee."),
            "empty": _("The photo file is empty."),
        },
    )
    id_document = forms.FileField(
        label=_("Copy of ID document"),
        help_text=_(
            "Passport, national ID card or driving licence: PDF, JPEG or PNG, at most 10 MB."
        ),
        required=False,
        widget=forms.FileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
        error_messages={
            "required": _("Upload a copy of the employee's ID document."),
            "empty": _("The ID document file is empty."),
        },
    )
    employee_email = forms.EmailField(
        label=_("The employee's e-mail address (optional)"),
        help_text=_(
            "Only when you send the employee a link. Leave it empty to get a link you can send by SMS."
        ),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages=EMAIL_ERROR_MESSAGES,
    )
    # A one-time token per form (orders.services.order_submit): sending the same form again
    # lands on the order it placed.
    submission_token = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)
    # Required when the orderer uploads the ID now; with a link the orderer checks the ID the
    # employee sends before the registers are asked (orders.employee_upload).
    identity_checked = forms.BooleanField(
        label=_("I have checked the employee's identity against the ID document."),
        help_text=_("When the employee uploads the ID, you check it on the order page first."),
        required=False,
        error_messages={"required": _("Confirm that you have checked the employee's identity.")},
    )

    # Optional: left empty, the card goes to the business address in Enhetsregisteret.
    delivery_name = forms.CharField(
        label=_("Name or c/o (optional)"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "shipping name"}),
        error_messages={"max_length": _("The name can be at most 200 characters.")},
    )
    delivery_street = forms.CharField(
        label=_("Street address"),
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"autocomplete": "shipping street-address"}),
        error_messages={"max_length": _("The street address can be at most 300 characters.")},
    )
    delivery_postcode = forms.CharField(
        label=_("Postcode"),
        help_text=_("4 digits"),
        required=False,
        max_length=20,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "shipping postal-code"}
        ),
        error_messages={"max_length": _("The postcode has 4 digits, for example 0150.")},
    )
    delivery_city = forms.CharField(
        label=_("City"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "shipping address-level2"}),
        error_messages={"max_length": _("The city can be at most 100 characters.")},
    )
    DELIVERY_FIELDS = ("delivery_name", "delivery_street", "delivery_postcode", "delivery_city")

    def __init__(
        self,
        *args: Any,
        employees: list[EmployeeListing],
        card_types: Any,
        unit_names: dict[str, str] | None = None,
        owner: User,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.employees = {employee_choice_value(e): e for e in employees}
        employee_field = cast(forms.ChoiceField, self.fields["employee"])
        names = unit_names or {}
        employee_field.choices = [("", _("Choose employee"))] + [
            (
                value,
                f"{e.full_name} ({names.get(e.employment.workplace_orgnr) or e.employment.workplace_orgnr})",
            )
            for value, e in self.employees.items()
        ]
        if not self.is_bound and not self.initial.get("submission_token"):
            self.initial["submission_token"] = secrets.token_urlsafe(32)
        cast(forms.ModelChoiceField, self.fields["card_type"]).queryset = card_types
        # Files kept from an earlier try, by kind: shown as still attached, used on submit.
        self.kept: dict[str, KeptFile] = {}
        self.to_keep: list[FileToKeep] = []

    def clean_files_from(self) -> str:
        return self.cleaned_data.get("files_from") or FILES_NOW

    @property
    def employee_uploads(self) -> bool:
        """The employee uploads the photo and ID document through a link."""
        return self.cleaned_data.get("files_from") == FILES_FROM_EMPLOYEE

    def clean_photo(self) -> Any:
        if self.employee_uploads:
            return None  # the employee uploads it; a file chosen anyway is not used
        photo: UploadedFile | None = self.cleaned_data.get("photo")
        if photo:
            _check_size(photo)
            crop = CropBox.parse(
                self.cleaned_data.get("crop_x"),
                self.cleaned_data.get("crop_y"),
                self.cleaned_data.get("crop_width"),
            )
            try:
                self.normalised_photo = photo_normalise(photo.read(), crop=crop)
            except PhotoRejected as rejected:
                raise forms.ValidationError(rejected.message) from None
            self.to_keep.append(
                FileToKeep(
                    kind=UploadStash.Kind.PHOTO,
                    content=bytes(self.normalised_photo.read()),
                    name=photo.name or "",
                    content_type="image/jpeg",
                )
            )
            self.normalised_photo.seek(0)
            return photo
        kept = stash_get(
            owner=self.owner,
            kind=UploadStash.Kind.PHOTO,
            key=self.cleaned_data.get("photo_stash"),
        )
        if kept is None:
            raise forms.ValidationError(self.fields["photo"].error_messages["required"])
        # Kept photos were checked and cropped when they were uploaded.
        self.normalised_photo = ContentFile(kept.content, name="photo.jpg")
        self.kept[UploadStash.Kind.PHOTO] = KeptFile(key=kept.key, name=kept.name)
        return None

    def clean_id_document(self) -> Any:
        if self.employee_uploads:
            return None
        document: UploadedFile | None = self.cleaned_data.get("id_document")
        if document:
            _check_size(document)
            extension = id_document_extension(document)
            if extension is None:
                raise forms.ValidationError(ID_DOCUMENT_KIND_ERROR)
            document.seek(0)
            self.to_keep.append(
                FileToKeep(
                    kind=UploadStash.Kind.ID_DOCUMENT,
                    content=bytes(document.read()),
                    name=document.name or "",
                    content_type=ID_DOCUMENT_CONTENT_TYPES[extension],
                )
            )
            document.seek(0)
            return document
        kept = stash_get(
            owner=self.owner,
            kind=UploadStash.Kind.ID_DOCUMENT,
            key=self.cleaned_data.get("id_document_stash"),
        )
        if kept is None:
            raise forms.ValidationError(self.fields["id_document"].error_messages["required"])
        self.kept[UploadStash.Kind.ID_DOCUMENT] = KeptFile(key=kept.key, name=kept.name)
        return SimpleUploadedFile(
            kept.name or "id-document", kept.content, content_type=kept.content_type
        )

    def file_kept(self, file: FileToKeep, *, key: str) -> None:
        """Show a file kept after this try (orders.stash.stash_put) as still attached."""
        self.kept[file.kind] = KeptFile(key=key, name=file.name)

    def selected_employee(self) -> EmployeeListing:
        return self.employees[self.cleaned_data["employee"]]

    def clean_delivery_postcode(self) -> str:
        postcode: str = self.cleaned_data["delivery_postcode"].strip()
        if postcode and not (len(postcode) == 4 and postcode.isascii() and postcode.isdigit()):
            raise forms.ValidationError(_("The postcode has 4 digits, for example 0150."))
        return postcode

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.employee_uploads and not cleaned.get("identity_checked"):
            self.add_error(
                "identity_checked", self.fields["identity_checked"].error_messages["required"]
            )
        given = {name: cleaned.get(name, "").strip() for name in self.DELIVERY_FIELDS}
        if any(given.values()) or "delivery_postcode" in self.errors:
            # Part of an address would send the card nowhere: all of it, or none of it.
            missing = {
                "delivery_street": _("Enter the street address for delivery."),
                "delivery_postcode": _("Enter the postcode for delivery."),
                "delivery_city": _("Enter the city for delivery."),
            }
            for name, message in missing.items():
                if not given[name] and name not in self.errors:
                    self.add_error(name, message)
        return cleaned

    def delivery_address(self) -> DeliveryAddress | None:
        """The delivery address given, or None for the business address."""
        given = {name: self.cleaned_data.get(name, "").strip() for name in self.DELIVERY_FIELDS}
        if not any(given.values()):
            return None
        return DeliveryAddress(
            name=given["delivery_name"],
            street=given["delivery_street"],
            postcode=given["delivery_postcode"],
            city=given["delivery_city"],
        )

    def choice_for_reference(self, reference: str) -> str:
        """The employee choice an employee_reference in a link stands for, or ""."""
        return next(
            (
                value
                for value, listing in self.employees.items()
                if employee_reference(listing) == reference
            ),
            "",
        )


def employee_reference(listing: EmployeeListing) -> str:
    """An opaque reference to an employee for links (?employee=…): a URL stays in logs and
    browser history, so it must not hold the identity number."""
    return employee_reference_for(
        national_id=listing.employment.national_id,
        workplace_orgnr=listing.employment.workplace_orgnr,
    )


def employee_reference_for(*, national_id: str, workplace_orgnr: str) -> str:
    """The reference of the employee with this identity number at this unit."""
    value = f"{national_id}:{workplace_orgnr}"
    return salted_hmac("orders.employee-reference", value).hexdigest()[:24]


class DelegationForm(forms.Form):
    """Give a person the right to order and administer cards, optionally between two dates."""

    national_id = forms.CharField(
        label=_("National identity number or D-number"),
        help_text=_("11 digits"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={
            "required": _("Enter the person's national identity number."),
            "max_length": INVALID_NATIONAL_ID,
        },
    )
    name = forms.CharField(
        label=_("Name"),
        max_length=200,
        error_messages={"required": _("Enter the person's name.")},
    )
    email = forms.EmailField(
        label=_("E-mail address"),
        help_text=_("We tell the person about the access at this address."),
        max_length=254,
        widget=forms.EmailInput(attrs={"inputmode": "email", "autocomplete": "off"}),
        error_messages={
            "required": _("Enter the person's e-mail address."),
            "invalid": _("Enter an e-mail address like name@example.no."),
            "max_length": _("Enter an e-mail address like name@example.no."),
        },
    )
    may_grant_further = forms.BooleanField(
        label=_("May give others access too"),
        required=False,
    )
    valid_from = forms.DateField(
        label=_("From"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": _("Enter the date the access starts."),
            "invalid": _("Enter a real date, for example 01.03.2027."),
        },
    )
    valid_until = forms.DateField(
        label=_("Until (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a real date, for example 01.03.2027.")},
    )

    def clean_national_id(self) -> str:
        try:
            return parse_national_id(self.cleaned_data["national_id"]).value
        except InvalidIdentifier:
            raise forms.ValidationError(INVALID_NATIONAL_ID) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("valid_from"), cleaned.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("The end date must be on or after the start date."))
        return cleaned


class CardRevokeForm(forms.Form):
    """Revoke a card, or replace a lost or stolen one. A card whose holder has left is ended
    with CardEndForm, on a page of its own."""

    REASONS = [
        (RevocationReason.LOST, _("Lost")),
        (RevocationReason.STOLEN, _("Stolen")),
        (RevocationReason.RETURNED, _("Returned")),
    ]
    reason = forms.ChoiceField(
        label=_("Why?"),
        choices=REASONS,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={
            "required": _("Choose why the card is to be revoked."),
            "invalid_choice": _("Choose one of the reasons in the list."),
        },
    )
    replace = forms.BooleanField(
        label=_("Order a replacement card with a new number"), required=False
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("replace") and cleaned.get("reason") not in REPLACEABLE_REASONS:
            self.add_error("replace", _("Only a lost or stolen card can be replaced."))
        return cleaned


class CardEndForm(forms.Form):
    """End a card because the holder no longer works for the employer (GOV.UK: a question
    page that asks the person to confirm before a change that cannot be undone)."""

    confirm = forms.BooleanField(
        label=_("Yes, the employment has ended. End the card."),
        error_messages={"required": _("Confirm that the employment has ended.")},
    )


class CardReportForm(forms.Form):
    """The holder reports their own card lost or stolen: one question (GOV.UK)."""

    reason = forms.ChoiceField(
        label=_("What has happened to the card?"),
        choices=[
            (RevocationReason.LOST, _("I have lost it")),
            (RevocationReason.STOLEN, _("It has been stolen")),
        ],
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={
            "required": _("Choose whether the card is lost or stolen."),
            "invalid_choice": _("Choose whether the card is lost or stolen."),
        },
    )


class EmployeeUploadForm(forms.Form):
    """The employee's own upload through their link: the photo, the ID document, or both.

    One at a time is fine (the employee may come back for the other); a field whose file is
    in already is left out.
    """

    photo = forms.FileField(
        label=_("Photo of you"),
        help_text=_(
            "Take the photo against a light, plain background, looking straight into the camera, without a hat or sunglasses."
        ),
        required=False,
        # On a phone, image/* with capture opens the front camera.
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "user"}),
        error_messages={
            "invalid_image": _(
                "The photo must be a JPEG or PNG image. The file you chose is not an image or is damaged."
            ),
            "empty": _("The photo file is empty."),
        },
    )
    id_document = forms.FileField(
        label=_("Your ID document"),
        help_text=_(
            "A photo or scan of your passport, national ID card or driving licence: PDF, JPEG or PNG."
        ),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
        error_messages={"empty": _("The ID document file is empty.")},
    )

    def __init__(
        self, *args: Any, needs_photo: bool, needs_id_document: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if not needs_photo:
            del self.fields["photo"]
        if not needs_id_document:
            del self.fields["id_document"]
        self.normalised_photo: Any = None

    def clean_photo(self) -> Any:
        photo: UploadedFile | None = self.cleaned_data["photo"]
        if photo is None:
            return None
        _check_size(photo)
        try:
            self.normalised_photo = photo_normalise(photo.read())
        except PhotoRejected as rejected:
            raise forms.ValidationError(rejected.message) from None
        return photo

    def clean_id_document(self) -> Any:
        document: UploadedFile | None = self.cleaned_data["id_document"]
        if document is None:
            return None
        _check_size(document)
        if id_document_extension(document) is None:
            raise forms.ValidationError(ID_DOCUMENT_KIND_ERROR)
        return document

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors and not any(cleaned.get(name) for name in self.fields):
            if "photo" in self.fields:
                self.add_error("photo", _("Take or choose a photo of yourself."))
            if "id_document" in self.fields:
                self.add_error("id_document", _("Choose a photo or scan of your ID document."))
        return cleaned


class UploadLinkResendForm(forms.Form):
    """Send the employee a new upload link (the old one stops working)."""

    email = forms.EmailField(
        label=_("The employee's e-mail address (optional)"),
        help_text=_("Leave it empty to get a link you can send by SMS."),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages=EMAIL_ERROR_MESSAGES,
    )


class IdentityConfirmForm(forms.Form):
    """The orderer confirms having checked the ID document the employee uploaded."""

    identity_checked = forms.BooleanField(
        label=_("I have checked the employee's identity against the ID document."),
        error_messages={"required": _("Confirm that you have checked the employee's identity.")},
    )


class RenewalForm(forms.Form):
    """Which of the expiring cards to renew in one order (all are ticked to begin with)."""

    cards = forms.TypedMultipleChoiceField(
        label=_("Cards to renew"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one card to renew."),
            "invalid_choice": _("A card you chose can no longer be renewed. Check the list."),
        },
    )

    def __init__(self, *args: Any, card_ids: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cards_field = cast(forms.TypedMultipleChoiceField, self.fields["cards"])
        cards_field.choices = [(card_id, str(card_id)) for card_id in card_ids]


class BulkUploadForm(forms.Form):
    """The ZIP of a bulk order: orders.csv with the photos and ID copies (orders/bulk.py)."""

    archive = forms.FileField(
        label=_("ZIP file"),
        help_text=_(
            "orders.csv and, for each person, a photo named by identity number (01017512338.jpg) and a copy of the ID document (01017512338-id.pdf)."
        ),
        error_messages={
            "required": _("Choose the ZIP file with orders.csv."),
            "empty": _("The file you chose is empty."),
        },
    )

    def clean_archive(self) -> Any:
        archive = self.cleaned_data["archive"]
        if archive.size > BULK_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                _("The ZIP file can be at most %(size)s. Split it into several uploads.")
                % {"size": filesizeformat(BULK_UPLOAD_MAX_BYTES)}
            )
        return archive
