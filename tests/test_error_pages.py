"""Under DEBUG (as `make run` serves) a missing page or a crash gets the site's own page, not
Django's debug page with every URL pattern; the API keeps its JSON errors."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def debug(settings):
    settings.DEBUG = True
    settings.DEBUG_TECHNICAL_ERROR_PAGES = False
    settings.ROOT_URLCONF = "tests.crashing_urls"
    return settings


def test_an_unknown_address_gets_the_sites_404_page(debug, client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "This page does not exist, or you cannot see it" in page
    assert 'class="site-header"' in page
    assert "URLconf" not in page and "admin/" not in page


def test_a_missing_model_raised_by_a_view_gets_the_sites_404_page(debug, client):
    response = client.get("/nobody/nothing/")
    assert response.status_code == 404
    assert "This page does not exist" in response.content.decode()
    assert "Http404" not in response.content.decode()


def test_a_crash_gets_the_sites_500_page_and_is_logged(debug, caplog):
    response = Client(raise_request_exception=False).get("/crash/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert "boom" not in page and "Traceback" not in page
    assert any("boom" in str(record.exc_info[1]) for record in caplog.records if record.exc_info)


def test_the_api_keeps_its_json_errors_under_debug(debug, client):
    response = client.get("/api/v1/models/nobody/nothing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


def test_technical_pages_come_back_when_asked(debug, client):
    debug.DEBUG_TECHNICAL_ERROR_PAGES = True
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "URLconf" in response.content.decode()


def test_without_debug_django_renders_the_same_templates(settings, client):
    settings.DEBUG = False
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "This page does not exist, or you cannot see it" in response.content.decode()
