"""The server-side charts are well-formed SVG, escape their labels and draw what they are given."""

import xml.etree.ElementTree as ET

from evaluations_app import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    root = ET.fromstring(str(markup))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img" and root.get("aria-label")
    assert "style=" not in str(markup)  # the CSP forbids inline styles
    return root


def test_line_chart_draws_one_point_per_version_in_the_order_given():
    root = parse(
        charts.line_chart([("1.0.0", 0.9), ("1.1.0", 0.93), ("2.0.0", 0.91)], label="Accuracy", y_label="Accuracy")
    )
    circles = root.findall(f".//{SVG}circle")
    assert [c.find(f"{SVG}title").text for c in circles] == ["1.0.0: 0.9000", "1.1.0: 0.9300", "2.0.0: 0.9100"]
    xs = [float(c.get("cx")) for c in circles]
    assert xs == sorted(xs)
    ys = [float(c.get("cy")) for c in circles]
    assert ys[1] < ys[2] < ys[0]  # higher value, higher on the page
    assert root.find(f".//{SVG}path").get("d").startswith("M")


def test_line_chart_with_one_point_or_none_still_renders():
    parse(charts.line_chart([("1.0.0", 0.5)], label="one"))
    assert "No data" in str(parse_and_return(charts.line_chart([], label="none")))


def parse_and_return(markup):
    parse(markup)
    return markup


def test_horizontal_bars_scale_to_the_largest_value_and_draw_whiskers():
    root = parse(charts.horizontal_bars([("a", 0.5), ("b", 0.25)], label="bars", errors=[0.05, 0.0], max_value=1.0))
    rects = root.findall(f".//{SVG}rect")
    assert float(rects[0].get("width")) == 2 * float(rects[1].get("width"))
    assert len(root.findall(f".//{SVG}line")) == 1  # only the non-zero std gets a whisker


def test_heat_map_has_a_cell_per_entry_with_its_count():
    root = parse(charts.heat_map(["cat", "dog"], [[5, 1], [0, 4]], label="Confusion matrix"))
    cells = root.findall(f".//{SVG}rect")
    assert len(cells) == 4
    titles = [g.find(f"{SVG}title").text for g in root.findall(f".//{SVG}g")]
    assert "true cat, predicted dog: 1 (17%)" in titles
    # The diagonal is darker where the class is mostly right.
    assert float(cells[0].get("fill-opacity")) > float(cells[1].get("fill-opacity"))


def test_labels_from_uploaded_tables_are_escaped():
    evil = '<script>alert("x")</script>&'
    for markup in (
        charts.heat_map([evil, "b"], [[1, 0], [0, 1]], label=evil),
        charts.horizontal_bars([(evil, 1.0)], label=evil),
        charts.line_chart([(evil, 1.0)], label=evil),
    ):
        root = parse(markup)
        assert "<script" not in str(markup)
        assert root.find(f"{SVG}title").text == evil
