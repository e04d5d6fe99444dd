"""The whole table of who may do what, asked of real users the way views and services ask."""

import pytest

from accounts_app.roles import Action, Role, may, roles_of
from tests.factories import make_model

# anonymous, owner, other user, reviewer, staff; each asked about the owner's model.
CAST = ("anonymous", "owner", "outsider", "reviewer", "staff")
EXPECTED = {
    Action.SEE_PUBLISHED: {"anonymous", "owner", "outsider", "reviewer", "staff"},
    Action.SEE_SUBMITTED: {"owner", "reviewer", "staff"},
    Action.SEE_UNPUBLISHED: {"owner", "staff"},
    Action.EDIT: {"owner"},
    Action.SUBMIT: {"owner"},
    Action.DEPRECATE: {"owner", "staff"},
    Action.SEE_QUEUE: {"reviewer", "staff"},
    Action.SEE_REVIEW_COMMENTS: {"owner", "reviewer", "staff"},
    Action.DECIDE: {"reviewer"},
    Action.EVALUATE: {"owner", "reviewer", "staff"},
    Action.MARK_BENCHMARK: {"staff"},
    Action.READ_AUDIT: {"staff"},
    Action.PROTECT_ALIAS: {"reviewer"},
}


def test_the_table_names_every_action():
    assert set(EXPECTED) == set(Action)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("who", CAST)
def test_who_may_do_what(request, owner, who, action):
    user = None if who == "anonymous" else request.getfixturevalue(who)
    model = make_model(owner)
    assert may(user, action, owner_id=model.owner_id) == (who in EXPECTED[action])


def test_a_reviewer_never_decides_on_their_own_model(reviewer):
    own = make_model(reviewer, "my-own")
    assert may(reviewer, Action.DECIDE) is True
    assert may(reviewer, Action.DECIDE, owner_id=own.owner_id) is False


def test_staff_outside_the_reviewers_group_do_not_decide(staff, superuser):
    assert not may(staff, Action.DECIDE)
    assert not may(superuser, Action.DECIDE)


def test_an_inactive_reviewer_holds_no_role(reviewer):
    reviewer.is_active = False
    assert roles_of(reviewer) == {Role.ANONYMOUS}
    assert not may(reviewer, Action.DECIDE)


def test_asking_for_a_cheap_role_costs_no_query(staff, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert may(staff, Action.READ_AUDIT)
        assert may(staff, Action.MARK_BENCHMARK)
