"""Components and groups: names are unique where a reader would confuse them, new ones go last."""

import pytest

from signalpost.status import services
from signalpost.errors import InvalidInput
from signalpost.status.models import Component, ComponentGroup


def test_it_appends_new_groups_after_the_existing_ones(page):
    switzerland = services.create_group(name="Switzerland")
    germany = services.create_group(name="Germany", description="Frankfurt and Berlin")

    assert germany.position > switzerland.position
    assert list(ComponentGroup.objects.values_list("name", flat=True)) == ["Switzerland", "Germany"]
    assert ComponentGroup.objects.get(name="Germany").description == "Frankfurt and Berlin"
    assert len(switzerland.public_id) == 12 and switzerland.public_id != germany.public_id


def test_it_refuses_a_second_group_with_the_same_name(components):
    with pytest.raises(InvalidInput) as refused:
        services.create_group(name="  Switzerland  ")

    assert refused.value.field == "name"
    assert "Switzerland" in refused.value.message
    assert ComponentGroup.objects.filter(name="Switzerland").count() == 1


def test_it_refuses_an_empty_or_overlong_name(page):
    for name in ["", "   ", "x" * 201]:
        with pytest.raises(InvalidInput) as refused:
            services.create_group(name=name)
        assert refused.value.field == "name"
        with pytest.raises(InvalidInput) as refused:
            services.create_component(name=name)
        assert refused.value.field == "name"
    assert not ComponentGroup.objects.exists() and not Component.objects.exists()


def test_it_appends_new_components_within_their_group(components):
    switzerland = components["zh1"].group
    zh3 = services.create_component(name="zh3.compact", group=switzerland)
    status_api = services.create_component(name="Status API")

    assert list(switzerland.components.values_list("name", flat=True)) == ["zh1.single", "zh2.cluster", "zh3.compact"]
    assert list(Component.objects.filter(group=None).values_list("name", flat=True)) == ["Mail delivery", "Status API"]
    assert zh3.position > components["zh2"].position
    assert status_api.position > components["mail"].position > components["zh1"].group.position


def test_it_keeps_an_explicit_position(components):
    first = services.create_component(name="zh0.first", group=components["zh1"].group, position=-1)

    assert first.position == -1
    assert list(components["zh1"].group.components.values_list("name", flat=True))[0] == "zh0.first"


def test_it_allows_the_same_component_name_in_another_group(components):
    germany = components["de1"].group

    services.create_component(name="zh1.single", group=germany)

    assert Component.objects.filter(name="zh1.single").count() == 2


def test_it_refuses_a_duplicate_component_name_in_the_same_group(components):
    with pytest.raises(InvalidInput) as refused:
        services.create_component(name="zh1.single", group=components["zh1"].group)
    assert refused.value.field == "name"
    assert "zh1.single" in refused.value.message

    with pytest.raises(InvalidInput) as refused:
        services.create_component(name="Mail delivery")  # ungrouped: the database constraint can't catch this
    assert refused.value.field == "name"
    assert Component.objects.filter(name__in=["zh1.single", "Mail delivery"]).count() == 2


def test_it_updates_a_components_fields(components):
    germany = components["de1"].group

    services.update_component(
        components["zh1"], name="zh1.renamed", description="Zurich, one zone", hidden=True,
        third_party=True, only_show_if_degraded=True, position=9, group=germany,
    )

    stored = Component.objects.get(pk=components["zh1"].pk)
    assert (stored.name, stored.description, stored.hidden, stored.third_party, stored.only_show_if_degraded,
            stored.position, stored.group) == ("zh1.renamed", "Zurich, one zone", True, True, True, 9, germany)


def test_it_refuses_renaming_a_component_onto_a_sibling(components):
    with pytest.raises(InvalidInput) as refused:
        services.update_component(components["zh1"], name="zh2.cluster")

    assert refused.value.field == "name"
    assert Component.objects.get(pk=components["zh1"].pk).name == "zh1.single"


def test_it_refuses_moving_a_component_into_a_group_that_has_its_name(components):
    services.create_component(name="Mail delivery", group=components["de1"].group)

    with pytest.raises(InvalidInput) as refused:
        services.update_component(components["mail"], group=components["de1"].group)

    assert refused.value.field == "name"
    assert Component.objects.get(pk=components["mail"].pk).group is None


def test_it_refuses_an_unknown_component_field_and_changes_nothing(components):
    with pytest.raises(InvalidInput) as refused:
        services.update_component(components["zh1"], description="changed", colour="red")

    assert refused.value.field == "colour"
    assert Component.objects.get(pk=components["zh1"].pk).description == ""


def test_it_updates_a_group_and_refuses_a_taken_name_or_unknown_field(components):
    switzerland = components["zh1"].group

    services.update_group(switzerland, name="Schweiz", description="Zurich", hidden=True, position=7)
    stored = ComponentGroup.objects.get(pk=switzerland.pk)
    assert (stored.name, stored.description, stored.hidden, stored.position) == ("Schweiz", "Zurich", True, 7)

    with pytest.raises(InvalidInput) as refused:
        services.update_group(stored, name="Germany")
    assert refused.value.field == "name"
    with pytest.raises(InvalidInput) as refused:
        services.update_group(stored, colour="red")
    assert refused.value.field == "colour"
    assert ComponentGroup.objects.get(pk=switzerland.pk).name == "Schweiz"
