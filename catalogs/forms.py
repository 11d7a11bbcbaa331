from django import forms

from catalog_health.tenancy.currencies import CurrencyFormField

from .countries import CountryFormField
from .models import Catalog, Product
from .rules import (
    catalog_name_error,
    entry_refusal,
    identifier_error,
    invisible_trim,
    tracking_number_error,
)


class PastedTextField(forms.CharField):
    """Text staff or sellers paste into a form (an order id, SKU, tracking number): outer
    blanks and invisible characters trimmed, one inside refused, naming it, as every other
    entry of orders does (catalogs.rules). Subclasses say what is wrong with a trimmed value."""

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        return invisible_trim(value) or self.empty_value

    def validate(self, value):
        super().validate(value)
        if value not in self.empty_values:
            error = self.error_of(value)
            if error:
                raise forms.ValidationError(entry_refusal(str(self.label), value, error))

    def error_of(self, value: str) -> str | None:
        return identifier_error(value, max_length=self.max_length or 255)


class TrackingNumberField(PastedTextField):
    def error_of(self, value: str) -> str | None:
        return tracking_number_error(value)


class CatalogNameField(PastedTextField):
    def error_of(self, value: str) -> str | None:
        return catalog_name_error(value)


class CatalogForm(forms.ModelForm):
    class Meta:
        model = Catalog
        fields = ["name", "country", "currency"]
        field_classes = {
            "name": CatalogNameField,
            "country": CountryFormField,
            "currency": CurrencyFormField,
        }


class CatalogSettingsForm(forms.Form):
    """What a seller sets on a catalog for its orders (the service checks the bounds too)."""

    handling_days = forms.IntegerField(
        label="Handling time (days)",
        min_value=0,
        max_value=60,
        help_text="An imported order line without a ship-by column must ship by its paid (or "
        "placed) time plus this many days; past that it is overdue.",
        widget=forms.NumberInput(attrs={"min": "0", "max": "60"}),
    )


class ProductEditForm(forms.ModelForm):
    """The fields a seller fixes by hand; the rules live in catalogs.rules.

    Each field carries the value the page showed (a hidden ``initial-`` input), so that a save
    writes only what the seller changed: a pull that changed another field since the page
    was opened keeps its value."""

    class Meta:
        model = Product
        fields = ["inventory_quantity", "price", "sale_price", "shipping_fee", "availability"]
        widgets = {
            "price": forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
            "sale_price": forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
            "shipping_fee": forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
            "inventory_quantity": forms.NumberInput(attrs={"min": "0"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.show_hidden_initial = True

    def shown_values(self) -> list[str]:
        """The hidden inputs of the values first shown (kept when the form is shown again
        with its errors)."""
        return [field.as_hidden(only_initial=True) for field in self]

    def edited_data(self) -> dict:
        """The cleaned values of the fields the seller changed from those first shown."""
        return {name: self.cleaned_data[name] for name in self.changed_data}


class ProductFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=200)
    availability = forms.ChoiceField(required=False)
    review_status = forms.ChoiceField(required=False)
    sort = forms.ChoiceField(required=False)
    size = forms.TypedChoiceField(required=False, coerce=int, empty_value=50)

    def __init__(self, *args, **kwargs):
        from .models import Availability, ReviewStatus
        from .selectors import PAGE_SIZES, PRODUCT_SORTS

        super().__init__(*args, **kwargs)
        self.fields["availability"].choices = [("", "Any availability"), *Availability.choices]
        self.fields["review_status"].choices = [("", "Any review status"), *ReviewStatus.choices]
        labels = {
            "sku": "SKU",
            "title": "Title",
            "price": "Price ↑",
            "-price": "Price ↓",
            "changed": "Recently changed",
        }
        self.fields["sort"].choices = [(k, labels[k]) for k in PRODUCT_SORTS]
        self.fields["size"].choices = [(s, f"{s} per page") for s in PAGE_SIZES]


class OrderFilterForm(forms.Form):
    """Manage Orders filters (same names in the page's query string and deep links)."""

    status = forms.ChoiceField(required=False)
    # pasted from exports and web pages: trimmed as every entry of orders is
    sku = PastedTextField(required=False, max_length=100, label="SKU")
    order_id = PastedTextField(required=False, max_length=64, label="Order id")
    catalog = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    date_from = forms.DateField(required=False, label="Placed from")
    date_to = forms.DateField(required=False, label="Placed until")
    size = forms.TypedChoiceField(required=False, coerce=int, empty_value=50)

    def __init__(self, *args, catalogs=(), **kwargs):
        from .selectors import ORDER_STATUSES, PAGE_SIZES

        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", "Any status"), *ORDER_STATUSES.items()]
        self.fields["catalog"].choices = [("", "Any catalog"), *[(c.pk, c.name) for c in catalogs]]
        self.fields["size"].choices = [(s, f"{s} per page") for s in PAGE_SIZES]


class UploadForm(forms.Form):
    KINDS = [("orders", "Order lines"), ("impressions", "Daily impressions")]
    kind = forms.ChoiceField(choices=KINDS, widget=forms.RadioSelect, initial="orders")
    file = forms.FileField(label="CSV, TSV or XLSX file")

    MAX_BYTES = 50 * 1024 * 1024

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > self.MAX_BYTES:
            raise forms.ValidationError("The file is larger than 50 MB; split it or use the API.")
        return f


class ColumnMappingForm(forms.Form):
    """Which column of an unrecognised export holds each field; saved as a named preset of
    the tenant and used automatically for files with the same header."""

    LABELS = {
        "order_id": "Order id",
        "sku": "SKU (product id)",
        "quantity": "Quantity",
        "item_price": "Item price",
        "shipping_fee": "Shipping fee",
        "placed_at": "Placed (created) time",
        "paid_at": "Paid time",
        "ship_by": "Ship-by time",
        "shipped_at": "Shipped time",
        "delivered_at": "Delivered time",
        "cancelled_at": "Cancelled time",
        "cancel_reason": "Cancel reason",
        "tracking_number": "Tracking number",
        "status": "Order status (shipped, completed, cancelled, refunded …)",
        "date": "Date",
        "impressions": "Impressions",
        "clicks": "Clicks",
    }
    REQUIRED = {
        "orders": ("order_id", "sku", "placed_at"),
        "impressions": ("sku", "date", "impressions"),
    }

    name = forms.CharField(max_length=100, label="Name of this mapping")
    cancel_values = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Cancel reason values",
        help_text="One per line: value = out_of_stock, buyer_request or other. Values not "
        "listed are read from their wording.",
    )

    def __init__(self, *args, header: list[str], kind: str, **kwargs):
        from .order_formats import IMPRESSION_FIELDS, MAPPABLE_FIELDS

        super().__init__(*args, **kwargs)
        self.kind = kind
        self.field_names = MAPPABLE_FIELDS if kind == "orders" else IMPRESSION_FIELDS
        choices = [("", "—"), *[(h, h) for h in header if str(h).strip()]]
        for name in self.field_names:
            self.fields[f"col_{name}"] = forms.ChoiceField(
                choices=choices,
                required=name in self.REQUIRED[kind],
                label=self.LABELS[name],
            )
        if kind != "orders":
            del self.fields["cancel_values"]

    def column_fields(self):
        return [self[f"col_{name}"] for name in self.field_names]

    def columns(self) -> dict[str, str]:
        return {
            name: self.cleaned_data[f"col_{name}"]
            for name in self.field_names
            if self.cleaned_data.get(f"col_{name}")
        }

    def clean_cancel_values(self) -> dict[str, str]:
        values = {}
        for number, line in enumerate(self.cleaned_data.get("cancel_values", "").splitlines(), 1):
            if not line.strip():
                continue
            value, sep, reason = line.rpartition("=")
            if not sep or reason.strip() not in ("out_of_stock", "buyer_request", "other"):
                raise forms.ValidationError(
                    f"Line {number}: write value = out_of_stock, buyer_request or other."
                )
            values[value.strip()] = reason.strip()
        return values
