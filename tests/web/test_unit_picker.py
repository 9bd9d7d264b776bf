"""The unit picker of the filters: a list for a small scope, a search box for a large one,
searching codes and names with tones optional, only within the user's units; without the
script a code typed works and anything else answers 404 with the units it matches."""

from __future__ import annotations

import re

import pytest

from web.reports import common

PAGES = ["/violations?from=2026-11-01&to=2026-11-20", "/violations/offenders",
         "/reports/daily?date=2026-11-20", "/reports/monthly?month=2026-11", "/employees",
         "/feedback"]


def options(html: str) -> list[str]:
    select = re.search(r'<select name="unit">(.*?)</select>', html, re.S)
    return re.findall(r'<option value="([^"]*)"', select.group(1)) if select else []


def search(client, text: str) -> list[str]:
    answer = client.get("/units/search", query_string={"q": text})
    assert answer.status_code == 200
    return [u["code"] for u in answer.get_json()["units"]]


@pytest.mark.parametrize("page", PAGES)
def test_a_small_scope_picks_from_a_list_of_its_own_units(login_as, page):
    html = login_as("head_snv").get(page).get_data(as_text=True)
    assert options(html) == ["", "SNV", "SNV-P1"]
    assert "unitpicker.js" not in html


@pytest.mark.parametrize("page", PAGES)
def test_a_large_scope_types_in_a_search_box(login_as, monkeypatch, page):
    monkeypatch.setattr(common, "PICKER_LIMIT", 3)  # the province has 4 units
    html = login_as("inspector").get(page).get_data(as_text=True)
    assert options(html) == []
    assert re.search(r'<input type="search" name="unit" value=""', html)
    assert "unitpicker.js" in html and 'data-url="/units/search"' in html


def test_the_box_shows_the_unit_chosen(login_as, monkeypatch):
    monkeypatch.setattr(common, "PICKER_LIMIT", 3)
    html = login_as("inspector").get("/violations?unit=SNV-P1").get_data(as_text=True)
    assert re.search(r'<input type="search" name="unit" value="SNV-P1"', html)
    assert "Phòng Công chức</small>" in html


def test_search_by_code_or_name_with_tones_optional(login_as):
    inspector = login_as("inspector")
    assert search(inspector, "SNV") == ["SNV", "SNV-P1"]  # the code itself, then its prefix
    assert search(inspector, "snv-p") == ["SNV-P1"]
    assert search(inspector, "so noi vu") == ["SNV"]
    assert search(inspector, "Sở") == ["SNV", "STC"]
    assert search(inspector, "phong cong") == ["SNV-P1"]
    assert search(inspector, "ubnd") == ["PROV"]
    assert search(inspector, "tài chính") == ["STC"]
    assert search(inspector, "   ") == []
    assert search(inspector, "kho bạc") == []


def test_search_lists_only_the_users_units(login_as):
    head = login_as("head_snv")  # SNV and SNV-P1
    assert search(head, "sở") == ["SNV"]
    assert search(head, "STC") == []
    assert search(head, "tai chinh") == []
    assert search(head, "ubnd") == []
    assert search(head, "s") == ["SNV", "SNV-P1"]


def test_staff_may_not_search_units(login_as):
    assert login_as("staff_snv").get("/units/search?q=s").status_code == 403


def test_without_the_script_a_code_filters_and_a_name_offers_the_units_it_matches(
        login_as, monkeypatch):
    monkeypatch.setattr(common, "PICKER_LIMIT", 3)
    inspector = login_as("inspector")
    assert inspector.get("/violations?unit=SNV").status_code == 200
    answer = inspector.get("/violations?from=2026-11-01&to=2026-11-20&unit=so+noi+vu&page=3")
    assert answer.status_code == 404
    html = answer.get_data(as_text=True)
    assert "Không tìm thấy đơn vị" in html and "«so noi vu»" in html
    links = re.findall(r'<li><a href="([^"]+)">([^<]+)</a>', html)
    assert links == [("/violations?from=2026-11-01&amp;to=2026-11-20&amp;unit=SNV",
                      "SNV · Sở Nội vụ")]
    html = inspector.get("/reports/daily?date=2026-11-20&unit=phong").get_data(as_text=True)
    assert re.findall(r'<li><a href="([^"]+)">', html) == [
        "/reports/daily?date=2026-11-20&amp;unit=SNV-P1"]


def test_a_unit_outside_the_scope_is_not_found_nor_offered(login_as):
    head = login_as("head_snv")
    for text in ("STC", "tai chinh", "PROV"):
        answer = head.get(f"/violations?unit={text}")
        assert answer.status_code == 404
        html = answer.get_data(as_text=True)
        assert "unit-matches" not in html  # nothing offered
        assert "Sở Tài chính" not in html and "UBND" not in html


def test_the_api_still_answers_json_for_an_unknown_unit(login_as):
    answer = login_as("inspector").get("/api/v1/violations?unit=so+noi+vu")
    assert answer.status_code == 404 and answer.get_json() == {"error": "unknown unit 'so noi vu'"}
