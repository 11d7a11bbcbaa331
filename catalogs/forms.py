from django import forms

from .models import Catalog, Product


class CatalogForm(forms.ModelForm):
    class Meta:
        model = Catalog
        fields = ["name", "country", "currency"]


class ProductEditForm(forms.ModelForm):
    """The fields a seller fixes by hand; the rules live in catalogs.rules."""

    class Meta:
        model = Product
        fields = ["inventory_quantity", "price", "sale_price", "shipping_fee", "availability"]
        widgets = {
            "price": forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
            "sale_price": forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
            "shipping_fee": forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
            "inventory_quantity": forms.NumberInput(attrs={"min": "0"}),
        }


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
    sku = forms.CharField(required=False, max_length=100, label="SKU")
    order_id = forms.CharField(required=False, max_length=64, label="Order id")
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
    file = forms.FileField(label="CSV or XLSX file")

    MAX_BYTES = 50 * 1024 * 1024

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > self.MAX_BYTES:
            raise forms.ValidationError("The file is larger than 50 MB; split it or use the API.")
        return f
