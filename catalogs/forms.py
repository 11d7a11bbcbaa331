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
            "inventory": "Inventory",
        }
        self.fields["sort"].choices = [(k, labels[k]) for k in PRODUCT_SORTS]
        self.fields["size"].choices = [(s, f"{s} per page") for s in PAGE_SIZES]
