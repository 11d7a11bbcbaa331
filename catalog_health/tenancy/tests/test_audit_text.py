"""The members page's activity in words, and each object's state as it is now."""

import pytest

from catalog_health.tenancy.audit_text import audit_actor_name, audit_sentence, current_name


@pytest.mark.parametrize(
    ("action", "target", "changes", "expected"),
    [
        (
            "ecr.disabled",
            "Main shop",
            {"ratio": 0.714},
            "ECR switched off for Main shop (71.4% Available)",
        ),
        # shares are rounded down to 0.1 %, as every page shows them: 0.658 is 65.8 %, never
        # "66%", and a share just below a threshold never reads as the threshold
        (
            "ecr.disabled",
            "Outlet",
            {"ratio": 0.658},
            "ECR switched off for Outlet (65.8% Available)",
        ),
        (
            "ecr.disabled",
            "Outlet",
            {"ratio": 3999 / 5000},
            "ECR switched off for Outlet (79.9% Available)",
        ),
        (
            "ecr.enabled",
            "Main shop",
            {"ratio": 0.9},
            "ECR switched back on for Main shop (90% Available)",
        ),
        ("feed_run.requested", "Run #1", {"trigger": "manual"}, "Requested data now: Run #1"),
        (
            "member.role_changed",
            "sam @ Acme",
            {"role": ["seller", "advertiser"]},
            "Changed the role of sam @ Acme from Seller to Advertiser",
        ),
        (
            "member.invited",
            "ann @ Acme",
            {"role": [None, "viewer"]},
            "Invited ann @ Acme as Viewer",
        ),
        (
            "member.removed",
            "sam @ Acme",
            {"role": ["owner", None]},
            "Removed sam @ Acme, who was Owner",
        ),
        ("member.removed", "sam @ Acme", {}, "Removed sam @ Acme"),
        # as stored: a membership's name carries its role, which the sentence says already
        (
            "member.removed",
            "ann @ Acme (viewer)",
            {"role": ["viewer", None]},
            "Removed ann @ Acme, who was Viewer",
        ),
        (
            "member.role_changed",
            "ann @ Acme (admin)",
            {"role": ["viewer", "admin"]},
            "Changed the role of ann @ Acme from Viewer to Admin",
        ),
        (
            "member.invited",
            "ann @ Acme (viewer)",
            {"role": [None, "viewer"]},
            "Invited ann @ Acme as Viewer",
        ),
        # without a role in its changes the name keeps it: it is all the sentence has
        ("member.removed", "ann @ Acme (viewer)", {}, "Removed ann @ Acme (viewer)"),
        ("auth.login", "sam", {}, "Signed in (sam)"),
        ("auth.login_failed", "", {}, "Failed to sign in"),
        ("access.denied", "", {"action": "source_refresh"}, "Was refused source refresh"),
        (
            "ecr.settings_changed",
            "",
            {"disable_threshold": ["0.8", "0.88"]},
            "Changed the ECR thresholds",
        ),
        (
            "feed_source.updated",
            "Daily feed",
            {"url": [1, 2], "name": [1, 2]},
            "Changed product source Daily feed: name, url",
        ),
        ("feed_source.created", "Daily feed", {}, "Created product source Daily feed"),
        ("catalog.created", "Outlet", {}, "Created catalog Outlet"),
        ("api_token.revoked", "ci (ab12…)", {}, "Revoked API token ci (ab12…)"),
        (
            "channel_feed.rotated",
            "Google XML",
            {},
            "Rotated the secret URL of channel feed Google XML",
        ),
        ("widget.exploded", "W-1", {}, "Exploded widget W-1"),  # an unknown action still reads
        ("ecr.disabled", "", {"ratio": "bad"}, "ECR switched off for it"),  # odd changes ignored
    ],
)
def test_audit_sentence(action, target, changes, expected):
    assert audit_sentence(action, target, changes) == expected


@pytest.mark.parametrize(
    ("recorded", "now", "expected"),
    [
        ("Run #1 (Queued)", "Run #1 (Succeeded)", ("Run #1", "Succeeded")),
        ("Run #1 (Succeeded)", "Run #1 (Succeeded)", ("Run #1 (Succeeded)", "")),
        ("Run #1 (Queued)", None, ("Run #1 (Queued)", "")),  # deleted: what was recorded
        ("Shop (EU)", "Shop (EU)", ("Shop (EU)", "")),  # a bracket in a name is not a state
        ("Old name", "New name", ("New name", "")),  # renamed: today's name
        ("Shop (EU)", "Shop (US)", ("Shop", "US")),
    ],
)
def test_current_name(recorded, now, expected):
    assert current_name(recorded, now) == expected


@pytest.mark.parametrize(
    ("actor", "recorded", "expected"),
    [
        ("ann", "ann", "ann"),
        ("ann-renamed", "ann", "ann-renamed"),  # the account as it is now
        (None, "ann", "ann (deleted user)"),
        (None, "", "system"),  # done by the platform itself
    ],
)
def test_audit_actor_name(actor, recorded, expected):
    assert audit_actor_name(actor, recorded) == expected
