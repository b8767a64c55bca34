import re


def test_it_publishes_an_openapi_document_listing_every_path(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert set(document["paths"]) >= {
        "/api/v1/page", "/api/v1/status", "/api/v1/groups", "/api/v1/groups/{group_id}",
        "/api/v1/components", "/api/v1/components/{component_id}", "/api/v1/components/{component_id}/override",
        "/api/v1/incidents", "/api/v1/incidents/{incident_id}", "/api/v1/incidents/{incident_id}/updates",
        "/api/v1/maintenance", "/api/v1/maintenance/{maintenance_id}", "/api/v1/maintenance/{maintenance_id}/updates",
    }
    operations = [op for path in document["paths"].values() for op in path.values()]
    assert len(operations) >= 25
    for operation in operations:
        assert operation["summary"]
        assert operation["security"] == [{"TokenAuth": []}]
        if "204" in operation["responses"]:  # a removal answers with no body
            continue
        if "text/csv" in operation["responses"].get("200", {}).get("content", {}):  # an export: a CSV file
            continue
        assert "$ref" in str(operation["responses"]["200" if "200" in operation["responses"] else "201"])
    assert document["components"]["securitySchemes"]["TokenAuth"] == {"type": "http", "scheme": "bearer"}
    posts = [path["post"] for path in document["paths"].values() if "post" in path]
    assert len(posts) >= 16  # incidents, maintenance, components, groups, overrides, postmortems
    for post in posts:
        assert "Idempotency-Key" in [p["name"] for p in post["parameters"] if p["in"] == "header"]


def test_it_serves_the_docs_page_without_anything_from_another_site(client, db):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/static/ninja/swagger-ui-bundle.js" in assets
    assert all(a.startswith("/") for a in assets), assets
    assert "default-src 'self'" in response["Content-Security-Policy"]
    for asset in assets:
        assert client.get(asset).status_code == 200, asset



def test_it_answers_an_unknown_api_path_with_json(api):
    response = api.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json()["detail"] == "no such API endpoint: /api/v1/no-such-thing"
