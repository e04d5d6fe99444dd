"""The Web section of ATTACKS.md: inert model cards, safe login redirects, CSRF, CSP."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts_app.models import ApiToken
from models_app.models import RegisteredModel
from models_app.templatetags.registry import render_markdown
from tests.factories import make_model, make_released_model

pytestmark = pytest.mark.django_db

HOSTILE_CARD = """# Card

<script>alert('xss')</script>
<img src="x" onerror="alert(1)">
<a href="#" onclick="steal()">click</a>
[run me](javascript:alert(document.cookie))
[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)
<iframe src="https://evil.example"></iframe>
<style>body{display:none}</style>
<div style="position:fixed">overlay</div>
[fine](https://example.org/docs)
{{ request.user }} {% load static %} {% csrf_token %}
"""


def test_markdown_card_with_script_onerror_and_javascript_link_is_rendered_inert(client, owner):
    make_released_model(owner, "hostile", description=HOSTILE_CARD)
    html = client.get(reverse("model-detail", args=["olivia", "hostile"])).content.decode()
    card = html.split('class="prose"', 1)[1].split("</article>", 1)[0]
    for forbidden in ("<script", "onerror", "onclick", "javascript:", "data:text", "<iframe", "<style", "style="):
        assert forbidden not in card, forbidden
    assert '<a href="https://example.org/docs" rel="noopener nofollow">fine</a>' in card
    # Template syntax in the card stays text: it is never rendered as a template.
    assert "{{ request.user }} {% load static %} {% csrf_token %}" in card
    assert "olivia" not in card


def test_markdown_filter_sanitizes_raw_html_in_changelogs_too():
    rendered = render_markdown("<script>x()</script>\n\nok")
    assert "<script" not in rendered and "x()" not in rendered and "ok" in rendered
    assert "onerror" not in render_markdown('<img src=a onerror="x()">')


def test_pages_send_a_csp_that_forbids_inline_scripts(client):
    response = client.get(reverse("home"))
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert b"<script>" not in response.content and b"style=" not in response.content


def test_model_page_has_no_inline_script_or_style(owner_client, public_model):
    for url in (
        public_model.get_absolute_url(),
        reverse("version-detail", args=["olivia", "iris-classifier", "1.1.0"]),
    ):
        content = owner_client.get(url).content
        assert b"<script>" not in content and b" style=" not in content and b"onclick" not in content


@pytest.mark.parametrize(
    "next_url",
    [
        "//evil.example",
        "/\\evil.example",
        "https:evil.example",
        "https://evil.example/",
        "///evil.example",
        "\\\\evil.example",
    ],
)
def test_login_rejects_unsafe_next(client, owner, next_url):
    response = client.post(
        reverse("login") + "?next=" + next_url,
        {"username": "olivia", "password": "correct-horse-battery", "next": next_url},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_login_follows_a_safe_next(client, owner):
    response = client.post(
        reverse("login"), {"username": "olivia", "password": "correct-horse-battery", "next": "/models/"}
    )
    assert response["Location"] == "/models/"


def test_login_with_wrong_password_shows_an_error(client, owner):
    response = client.post(reverse("login"), {"username": "olivia", "password": "nope"})
    assert response.status_code == 200 and response.context["form"].errors


def test_logout_needs_post(owner_client):
    assert owner_client.get(reverse("logout")).status_code == 405
    assert owner_client.post(reverse("logout")).status_code == 302
    assert owner_client.get(reverse("token-list")).status_code == 302  # logged out now


def _csrf_client(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_cross_site_post_without_csrf_token_is_refused(owner):
    client = _csrf_client(owner)
    data = {"name": "sneaky", "task": "other", "framework": "other", "license": "MIT", "visibility": "public"}
    assert client.post(reverse("model-create"), data).status_code == 403
    assert not RegisteredModel.objects.filter(name="sneaky").exists()
    assert client.post(reverse("token-list"), {"name": "sneaky"}).status_code == 403
    assert not ApiToken.objects.exists()
    assert client.post(reverse("logout")).status_code == 403


def test_post_with_csrf_token_from_the_page_is_accepted(owner):
    client = _csrf_client(owner)
    client.get(reverse("model-create"))
    token = client.cookies["csrftoken"].value
    data = {"name": "legit", "task": "other", "framework": "other", "license": "MIT", "visibility": "public"}
    response = client.post(reverse("model-create"), {**data, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert RegisteredModel.objects.filter(name="legit").exists()


def test_cross_site_delete_without_csrf_is_refused(owner, public_model):
    client = _csrf_client(owner)
    make_model(owner, "scratch")
    assert client.post(reverse("model-delete", args=["olivia", "scratch"])).status_code == 403
    assert RegisteredModel.objects.filter(name="scratch").exists()


def test_a_cards_headings_sit_below_the_pages_own_so_the_page_keeps_one_h1():
    rendered = render_markdown("# Iris classifier\n\n## Training\n\n###### Fine print\n\n<h1 class='x'>raw</h1>")
    assert "<h1" not in rendered and "<h2" not in rendered
    assert (
        "<h3>Iris classifier</h3>" in rendered and "<h4>Training</h4>" in rendered and "<h6>Fine print</h6>" in rendered
    )
