"""The site icon: browsers ask for /favicon.ico on every page, so it must be there."""


def test_favicon_is_served_at_the_address_browsers_ask_for(client):
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200
        assert response.mimetype in {"image/vnd.microsoft.icon", "image/x-icon"}
        assert response.data[:4] == b"\x00\x00\x01\x00"  # the ICO header


def test_every_page_links_the_icon(client):
    html = client.get("/").get_data(as_text=True)

    assert '<link rel="icon" href="/favicon.ico" sizes="32x32">' in html
    with client.get("/static/favicon.svg") as svg:
        assert (svg.status_code, svg.mimetype) == (200, "image/svg+xml")
