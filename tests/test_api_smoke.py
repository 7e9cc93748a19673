from .api import Api


async def test_every_resource_can_be_created_and_read_back(api: Api) -> None:
    from service.resources import RESOURCES

    for resource in RESOURCES:
        created = await api.make(resource.message)
        module = api.pb(resource.message)
        stub = getattr(api, resource.message)
        request = getattr(module, f"Get{resource.message}Request")(id=created.id)
        fetched = await getattr(stub, f"Get{resource.message}")(request, timeout=5)
        assert fetched == created, resource.message
