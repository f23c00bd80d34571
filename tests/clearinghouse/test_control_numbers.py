from __future__ import annotations

import threading

import pytest
from django.db import connections

from billing.tenancy import tenant_context
from clearinghouse.control_numbers import ControlNumbersExhausted, next_control_number
from clearinghouse.models import ControlNumberSequence
from tests import factories


@pytest.mark.django_db
def test_it_hands_out_increasing_numbers_per_clearinghouse(org):
    waystar = factories.ClearinghouseConfigFactory(organization=org)
    availity = factories.ClearinghouseConfigFactory(organization=org)
    numbers = [next_control_number(organization=org, clearinghouse=waystar) for _ in range(3)]
    assert numbers == [1, 2, 3]
    assert next_control_number(organization=org, clearinghouse=availity) == 1
    assert ControlNumberSequence.objects.get(clearinghouse=waystar).last_value == 3


@pytest.mark.django_db
def test_it_refuses_to_go_past_the_nine_digits_of_isa13(org):
    config = factories.ClearinghouseConfigFactory(organization=org)
    ControlNumberSequence.objects.create(
        organization=org, clearinghouse=config, last_value=999_999_999
    )
    with pytest.raises(ControlNumbersExhausted, match="999,999,999"):
        next_control_number(organization=org, clearinghouse=config)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_never_get_the_same_number(org):
    config = factories.ClearinghouseConfigFactory(organization=org)
    taken: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker():
        try:
            for _ in range(10):
                with tenant_context(org):
                    number = next_control_number(organization=org, clearinghouse=config)
                with lock:
                    taken.append(number)
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(taken) == list(range(1, 81))
