from .roles import Perm, has_perm
from .selectors import user_memberships


def tenancy(request):
    """The current tenant, the switcher's list, and the current role's permissions."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = getattr(request, "membership", None)
    perms = {p.value: has_perm(membership.role, p) for p in Perm} if membership else {}
    return {
        "current_tenant": getattr(request, "tenant", None),
        "current_membership": membership,
        "perms_in_tenant": perms,
        # Evaluated lazily in the template: pages without a switcher pay nothing.
        "user_memberships": user_memberships(user=user),
    }
