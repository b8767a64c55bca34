from signalpost.status import services
from signalpost.status.models import Component, ComponentGroup, StatusOverride

from .conftest import field_errors


def test_it_creates_and_lists_groups(admin, page):
    response = admin.post("/api/v1/groups", {"name": "France", "description": "Paris region"})
    assert response.status_code == 201
    group = response.json()
    assert group["name"] == "France" and group["description"] == "Paris region" and group["hidden"] is False
    assert group["created_at"].endswith("Z") or "+" in group["created_at"]
    listed = admin.get("/api/v1/groups").json()
    assert [g["name"] for g in listed["items"]] == ["France"]
    assert admin.get(f"/api/v1/groups/{group['id']}").json()["name"] == "France"


def test_it_renames_a_group(admin, components):
    group = ComponentGroup.objects.get(name="Germany")
    response = admin.patch(f"/api/v1/groups/{group.public_id}", {"name": "Deutschland", "hidden": True})
    assert response.status_code == 200
    assert response.json()["name"] == "Deutschland" and response.json()["hidden"] is True
    group.refresh_from_db()
    assert group.name == "Deutschland"


def test_it_refuses_a_duplicate_or_empty_group_name(admin, components):
    response = admin.post("/api/v1/groups", {"name": "Switzerland"})
    assert response.status_code == 422
    assert "already exists" in field_errors(response)["name"]
    response = admin.post("/api/v1/groups", {"name": "  "})
    assert field_errors(response) == {"name": "must not be empty"}


def test_it_refuses_null_for_a_field_that_cannot_be_empty(admin, components):
    group = ComponentGroup.objects.get(name="Germany")
    response = admin.patch(f"/api/v1/groups/{group.public_id}", {"hidden": None})
    assert response.status_code == 422
    assert "hidden" in field_errors(response)


def test_it_creates_a_component_in_a_group_named_by_name(admin, components):
    response = admin.post("/api/v1/components", {"name": "zh3.single", "group": "Switzerland", "description": "ZH3"})
    assert response.status_code == 201
    body = response.json()
    assert body["group"]["name"] == "Switzerland"
    assert body["status"] == "operational" and body["override"] is None
    assert Component.objects.get(public_id=body["id"]).group.name == "Switzerland"


def test_it_creates_a_component_in_a_group_named_by_id(admin, components):
    germany = ComponentGroup.objects.get(name="Germany")
    response = admin.post("/api/v1/components", {"name": "de3.compact", "group": germany.public_id})
    assert response.json()["group"] == {"id": germany.public_id, "name": "Germany"}


def test_it_refuses_a_component_with_an_empty_name_or_unknown_group(admin, components):
    response = admin.post("/api/v1/components", {"name": ""})
    assert response.status_code == 422
    assert response.json()["detail"] == "Invalid input: name must not be empty."
    response = admin.post("/api/v1/components", {"name": "x", "group": "Atlantis"})
    assert field_errors(response) == {"group": 'unknown group "Atlantis"'}
    assert not Component.objects.filter(name="x").exists()


def test_it_moves_a_component_out_of_its_group(admin, components):
    zh1 = components["zh1"]
    response = admin.patch(f"/api/v1/components/{zh1.public_id}", {"group": None, "position": 7})
    assert response.status_code == 200
    assert response.json()["group"] is None and response.json()["position"] == 7
    zh1.refresh_from_db()
    assert zh1.group is None


def test_it_refuses_an_unknown_field(admin, components):
    response = admin.patch(f"/api/v1/components/{components['zh1'].public_id}", {"nmae": "zh1"})
    assert response.status_code == 422
    assert field_errors(response) == {"nmae": "is not a known field"}


def test_it_answers_404_for_an_unknown_component(admin, components):
    response = admin.get("/api/v1/components/nosuchthing0")
    assert response.status_code == 404
    assert "nosuchthing0" in response.json()["detail"]


def test_it_shows_the_status_derived_from_an_open_incident(admin, incident, components):
    body = admin.get(f"/api/v1/components/{components['zh1'].public_id}").json()
    assert body["status"] == "major_outage"


def test_it_sets_and_clears_an_override(writer, components):
    zh2 = components["zh2"]
    response = writer.post(f"/api/v1/components/{zh2.public_id}/override",
                           {"status": "degraded_performance", "reason": "slow disks"})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded_performance"
    assert body["override"]["status"] == "degraded_performance" and body["override"]["reason"] == "slow disks"
    response = writer.delete(f"/api/v1/components/{zh2.public_id}/override")
    assert response.status_code == 200
    assert response.json()["status"] == "operational" and response.json()["override"] is None
    assert StatusOverride.objects.filter(component=zh2, cleared_at__isnull=False).count() == 1


def test_it_refuses_an_unknown_status_for_an_override(writer, components):
    response = writer.post(f"/api/v1/components/{components['zh2'].public_id}/override", {"status": "on_fire"})
    assert response.status_code == 422
    assert field_errors(response)["status"].startswith("must be one of: operational")
    assert not StatusOverride.objects.exists()


def test_it_filters_components_by_group_and_visibility(admin, components):
    services.update_component(components["de2"], hidden=True)
    germany = ComponentGroup.objects.get(name="Germany")
    names = [c["name"] for c in admin.get("/api/v1/components", {"group": germany.public_id}).json()["items"]]
    assert names == ["de1.compact", "de2.compact"]
    names = [c["name"] for c in admin.get("/api/v1/components", {"hidden": "true"}).json()["items"]]
    assert names == ["de2.compact"]
    assert admin.get("/api/v1/components", {"hidden": "false"}).json()["count"] == 4


def test_it_pages_through_components(admin, components):
    first = admin.get("/api/v1/components", {"per_page": 2}).json()
    second = admin.get("/api/v1/components", {"per_page": 2, "page": 3}).json()
    assert first["count"] == 5 and first["page"] == 1 and first["per_page"] == 2 and len(first["items"]) == 2
    assert len(second["items"]) == 1
    assert admin.get("/api/v1/components", {"per_page": 101}).status_code == 422


def test_it_lists_components_in_a_bounded_number_of_queries(admin, components, django_assert_max_num_queries):
    for n in range(25):
        services.set_override(services.create_component(name=f"edge{n}"), "partial_outage")
    with django_assert_max_num_queries(10):
        body = admin.get("/api/v1/components", {"per_page": 100}).json()
    assert body["count"] == 30
    assert sum(c["status"] == "partial_outage" for c in body["items"]) == 25


def test_it_shows_the_page_indicator_and_component_statuses(admin, incident, components):
    body = admin.get("/api/v1/status").json()
    assert body["indicator"] == "critical"
    statuses = {c["name"]: c["status"] for c in body["components"]}
    assert statuses["zh1.single"] == "major_outage" and statuses["Mail delivery"] == "operational"
    zh1 = next(c for c in body["components"] if c["name"] == "zh1.single")
    assert zh1["group"] == "Switzerland" and zh1["id"] == components["zh1"].public_id


def test_it_shows_and_changes_the_page_settings(admin, page):
    assert admin.get("/api/v1/page").json() == {
        "name": "Example Status", "url": "https://status.example.com", "time_zone": "Europe/Zurich",
    }
    response = admin.patch("/api/v1/page", {"time_zone": "America/New_York"})
    assert response.json()["time_zone"] == "America/New_York" and response.json()["name"] == "Example Status"
    response = admin.patch("/api/v1/page", {"time_zone": "Mars/Olympus"})
    assert response.status_code == 422 and "time_zone" in field_errors(response)


def test_it_removes_a_component_no_incident_names_and_keeps_one_with_history(admin, components):
    services.open_incident(name="Down", components={components["zh1"]: "major_outage"})
    refused = admin.delete(f"/api/v1/components/{components['zh1'].public_id}")
    assert refused.status_code == 422
    assert "appears in the history of 1 incident" in field_errors(refused)["component"]
    assert "hide it instead" in field_errors(refused)["component"]
    assert Component.objects.filter(pk=components["zh1"].pk).exists()

    removed = admin.delete(f"/api/v1/components/{components['de2'].public_id}")
    assert (removed.status_code, removed.content) == (204, b"")
    assert not Component.objects.filter(pk=components["de2"].pk).exists()
    assert admin.delete(f"/api/v1/components/{components['de2'].public_id}").status_code == 404


def test_it_removes_an_empty_group_only(admin, components):
    germany = ComponentGroup.objects.get(name="Germany")
    refused = admin.delete(f"/api/v1/groups/{germany.public_id}")
    assert refused.status_code == 422 and "holds 2 components" in field_errors(refused)["group"]
    for component in ("de1", "de2"):
        assert admin.delete(f"/api/v1/components/{components[component].public_id}").status_code == 204
    assert admin.delete(f"/api/v1/groups/{germany.public_id}").status_code == 204
    assert not ComponentGroup.objects.filter(name="Germany").exists()
