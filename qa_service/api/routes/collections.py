"""GET /collections: the collections a key may use, with their sizes."""

from __future__ import annotations

from fastapi import APIRouter

from qa_service.api.deps import ReaderDep, ServicesDep
from qa_service.api.schemas import COMMON_ERRORS, CollectionList, CollectionPublic, error_responses
from qa_service.store import READY

router = APIRouter(tags=["collections"])


@router.get("/collections", response_model=CollectionList, responses=error_responses(*COMMON_ERRORS))
def list_collections(services: ServicesDep, principal: ReaderDep) -> CollectionList:
    """Collections this key may use (all of them for an unrestricted key). Upload to a name to create one."""
    result = []
    for name in services.store.collection_names():
        if not principal.may_use(name):
            continue
        infos = services.store.list_documents(name)
        result.append(
            CollectionPublic(
                name=name,
                documents=len(infos),
                ready=sum(info.state == READY for info in infos),
                chunks=services.store.chunk_count(name),
            )
        )
    return CollectionList(items=result)
