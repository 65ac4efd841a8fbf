"""HTML rendering: the same document as nbconvert's HTMLExporter, without its BeautifulSoup pass."""

import base64

import pytest
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from nbreports.runs.render import DEFAULT_ALT, make_accessible, render_html

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4).decode()


def tricky_notebook():
    """Outputs whose markup the accessibility pass must get right (or leave alone)."""
    html_output = (
        "<div class='jp-OutputArea-output extra' tabindex='-1'>user div</div>"
        "<img src='a.png'><img alt='' src=b.png><IMG SRC=\"c.png\" ALT=\"C\"/>"
        '<img title="a > b" alt="kept" src="d.png">'
        "<!-- <img src='in-a-comment.png'> -->"
        "<script>const s = '<img src=in-a-script.png>';</script>"
        "<style>div > img { border: 0 }</style>"
        "<table><tr><td><img src='in-a-table.png'></td></tr></table>"
    )
    cells = [
        new_markdown_cell("# Title\n\n![chart](chart.png) and <img src='md.png'>"),
        new_code_cell(
            "print('<img src=x>')",
            execution_count=1,
            outputs=[new_output("stream", name="stdout", text="<img src=escaped.png>\n")],
        ),
        new_code_cell(
            "display(html)",
            execution_count=2,
            outputs=[
                new_output("display_data", data={"text/html": html_output, "text/plain": "html"}),
                new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"}),
                new_output("display_data", data={"image/svg+xml": "<svg xmlns='http://www.w3.org/2000/svg'/>"}),
                new_output("execute_result", execution_count=2, data={"text/plain": "42"}),
            ],
        ),
        new_code_cell(
            "1 / 0",
            execution_count=3,
            outputs=[new_output("error", ename="ZeroDivisionError", evalue="division by zero", traceback=["boom"])],
        ),
    ]
    return new_notebook(cells=cells, metadata={"language_info": {"name": "python"}})


def same_document(a: str, b: str) -> bool:
    return BeautifulSoup(a, "html.parser").decode() == BeautifulSoup(b, "html.parser").decode()


@pytest.mark.parametrize("hide_code", [False, True])
def test_rendered_page_is_the_document_nbconvert_makes(hide_code):
    nb = tricky_notebook()
    ours = render_html(nb, hide_code=hide_code)
    theirs, _ = HTMLExporter(
        exclude_input=hide_code, exclude_input_prompt=hide_code, exclude_output_prompt=hide_code
    ).from_notebook_node(nb)
    assert same_document(ours, theirs)
    assert ours.count(DEFAULT_ALT) == theirs.count(DEFAULT_ALT) >= 3
    assert 'tabindex="0"' in ours
    assert "in-a-script.png>'" in ours


def test_accessibility_pass_touches_only_the_tags_it_fixes():
    page = (
        '<p class="x">text &amp; more</p>\n<img src="a.png">'
        '<div class="jp-Cell-inputWrapper" data-x=\'1\'>in</div><div class="other">o</div>'
    )
    assert make_accessible(page) == (
        f'<p class="x">text &amp; more</p>\n<img src="a.png" alt="{DEFAULT_ALT}">'
        '<div class="jp-Cell-inputWrapper" data-x=\'1\' tabindex="0">in</div><div class="other">o</div>'
    )


def test_accessibility_pass_leaves_comments_scripts_and_styles_alone():
    page = "<!-- <img src=a> --><script>x = '<img src=b>'</script><style>img{}</style>"
    assert make_accessible(page) == page
