"""Tests for portal.billing.money: KDV with one rounding rule, and savings between cycles."""

from dataclasses import FrozenInstanceError
from decimal import Decimal, localcontext

import pytest

from portal.billing import money
from portal.billing.money import (
    CENT,
    KDV_RATE,
    Charge,
    charge_for,
    monthly_equivalent,
    saving_against_monthly,
)

D = Decimal


def test_kdv_is_twenty_percent_and_amounts_are_in_kurus():
    assert str(KDV_RATE) == "0.20"
    assert str(CENT) == "0.01"


def test_the_rounding_rule_is_written_in_the_module_docstring():
    assert "ROUND_HALF_UP at the kuruş (0.01), applied ONCE per charge" in money.__doc__


@pytest.mark.parametrize(
    ("amount", "kdv_included", "net", "kdv", "gross"),
    [
        ("1200.00", True, "1000.00", "200.00", "1200.00"),
        ("99.99", True, "83.33", "16.66", "99.99"),  # 83.325 rounds half up
        ("100.00", True, "83.33", "16.67", "100.00"),  # 83.333...
        ("0.01", True, "0.01", "0.00", "0.01"),  # 0.00833... rounds up to a kuruş of net
        ("100.00", False, "100.00", "20.00", "120.00"),
        ("99.99", False, "99.99", "20.00", "119.99"),  # 19.998
        ("0.05", False, "0.05", "0.01", "0.06"),  # 0.010
        ("0.03", False, "0.03", "0.01", "0.04"),  # 0.006
        ("0.02", False, "0.02", "0.00", "0.02"),  # 0.004 rounds down
        ("0.00", True, "0.00", "0.00", "0.00"),
        ("0.00", False, "0.00", "0.00", "0.00"),
    ],
)
def test_charge_splits_net_kdv_and_gross_by_the_rule(amount, kdv_included, net, kdv, gross):
    assert charge_for(D(amount), kdv_included) == Charge(net=D(net), kdv=D(kdv), gross=D(gross))


def test_half_a_kurus_rounds_up_not_to_even():
    # Banker's rounding would give 0.02, 0.12 and 0.02 here.
    assert charge_for(D("0.03"), kdv_included=True) == Charge(
        net=D("0.03"), kdv=D("0.00"), gross=D("0.03")
    )  # 0.025
    assert charge_for(D("0.15"), kdv_included=True).net == D("0.13")  # 0.125
    # At 20 % an excluded price never lands on half a kuruş; at 10 % it can.
    assert charge_for(D("0.25"), kdv_included=False, rate=D("0.10")).kdv == D("0.03")  # 0.025


def test_gross_is_net_plus_kdv_for_every_amount_up_to_50_lira():
    for kurus in range(5001):
        amount = D(kurus) / 100
        included = charge_for(amount, kdv_included=True)
        assert included.gross == amount
        assert included.gross == included.net + included.kdv
        assert included.kdv >= 0
        excluded = charge_for(amount, kdv_included=False)
        assert excluded.net == amount
        assert excluded.gross == excluded.net + excluded.kdv


def test_amounts_always_come_back_with_two_places():
    charge = charge_for(D("1200"), kdv_included=True)
    assert [str(part) for part in (charge.net, charge.kdv, charge.gross)] == [
        "1000.00",
        "200.00",
        "1200.00",
    ]


def test_kdv_is_rounded_once_per_charge_not_per_line():
    # Three lines of 0.02 each round to 0.00 KDV, but the charge of 0.06 carries 0.01.
    assert charge_for(D("0.06"), kdv_included=False).kdv == D("0.01")
    assert sum(charge_for(D("0.02"), kdv_included=False).kdv for _ in range(3)) == D("0.00")


def test_another_rate_can_be_given():
    assert charge_for(D("110.00"), kdv_included=True, rate=D("0.10")) == Charge(
        net=D("100.00"), kdv=D("10.00"), gross=D("110.00")
    )
    assert charge_for(D("50.00"), kdv_included=False, rate=D("0")).gross == D("50.00")


def test_the_rule_does_not_depend_on_the_callers_decimal_context():
    with localcontext() as context:
        context.prec = 3
        assert charge_for(D("99.99"), kdv_included=True).net == D("83.33")
        assert charge_for(D("123456.78"), kdv_included=False).kdv == D("24691.36")


@pytest.mark.parametrize("amount", [12.5, 1200, "1200.00", None])
def test_anything_but_a_decimal_amount_is_refused(amount):
    with pytest.raises(TypeError, match="must be a Decimal"):
        charge_for(amount, kdv_included=True)


def test_a_float_rate_is_refused():
    with pytest.raises(TypeError, match="must be a Decimal"):
        charge_for(D("10.00"), kdv_included=False, rate=0.2)


@pytest.mark.parametrize("amount", ["1.001", "0.005", "99.999"])
def test_fractions_of_a_kurus_are_refused(amount):
    with pytest.raises(ValueError, match="whole kuruş"):
        charge_for(D(amount), kdv_included=True)


def test_trailing_zeros_beyond_the_kurus_are_accepted():
    assert charge_for(D("100.000"), kdv_included=False).gross == D("120.00")


@pytest.mark.parametrize("amount", ["-0.01", "-100.00"])
def test_negative_amounts_are_refused(amount):
    with pytest.raises(ValueError, match="negative"):
        charge_for(D(amount), kdv_included=False)


def test_negative_zero_is_plain_zero():
    assert str(charge_for(D("-0.00"), kdv_included=False).gross) == "0.00"


@pytest.mark.parametrize("amount", ["NaN", "Infinity"])
def test_non_finite_amounts_are_refused(amount):
    with pytest.raises(ValueError, match="finite"):
        charge_for(D(amount), kdv_included=False)


def test_a_charge_cannot_be_changed_or_built_unbalanced():
    charge = charge_for(D("10.00"), kdv_included=False)
    with pytest.raises(FrozenInstanceError):
        charge.kdv = D("0.00")
    with pytest.raises(ValueError, match="not net"):
        Charge(net=D("10.00"), kdv=D("2.00"), gross=D("12.01"))


@pytest.mark.parametrize(
    ("amount", "cycle", "expected"),
    [
        ("100.00", "monthly", "100.00"),
        ("300.00", "quarterly", "100.00"),
        ("540.00", "semi_annual", "90.00"),
        ("1000.00", "yearly", "83.33"),
        ("1000.02", "yearly", "83.34"),  # 83.335 rounds half up
        ("10.00", "daily", None),
        ("50.00", "weekly", None),
        ("5000.00", "lifetime", None),
    ],
)
def test_monthly_equivalent_of_each_cycle(amount, cycle, expected):
    assert monthly_equivalent(D(amount), cycle) == (None if expected is None else D(expected))


@pytest.mark.parametrize(
    ("price", "cycle", "monthly", "expected"),
    [
        ("1000.00", "yearly", "100.00", "17"),  # 1 − 1000/1200 = 16.67 %
        ("300.00", "quarterly", "100.00", "0"),
        ("540.00", "semi_annual", "100.00", "10"),
        ("1140.00", "yearly", "100.00", "5"),
        ("1194.00", "yearly", "100.00", "1"),  # 0.5 % rounds half up
        ("1206.00", "yearly", "100.00", "-1"),  # -0.5 % rounds away from zero
        ("330.00", "quarterly", "100.00", "-10"),  # dearer than monthly: said so
        ("0.00", "yearly", "100.00", "100"),
    ],
)
def test_saving_against_monthly_in_whole_percent(price, cycle, monthly, expected):
    saving = saving_against_monthly(D(price), cycle, D(monthly))
    assert str(saving) == expected


def test_a_tiny_extra_cost_shows_as_zero_not_minus_zero():
    assert str(saving_against_monthly(D("1200.40"), "yearly", D("100.00"))) == "0"


@pytest.mark.parametrize("cycle", ["daily", "weekly", "monthly", "lifetime"])
def test_no_saving_is_shown_for_cycles_not_longer_in_whole_months(cycle):
    assert saving_against_monthly(D("100.00"), cycle, D("100.00")) is None


def test_no_saving_is_shown_against_a_free_monthly_price():
    assert saving_against_monthly(D("100.00"), "yearly", D("0.00")) is None


def test_unknown_cycles_and_bad_amounts_are_refused_in_savings():
    with pytest.raises(ValueError, match="Unknown billing cycle"):
        saving_against_monthly(D("100.00"), "annual", D("10.00"))
    with pytest.raises(ValueError, match="Unknown billing cycle"):
        monthly_equivalent(D("100.00"), "annual")
    with pytest.raises(TypeError):
        saving_against_monthly(1000.0, "yearly", D("100.00"))
    with pytest.raises(ValueError, match="negative"):
        saving_against_monthly(D("1000.00"), "yearly", D("-100.00"))
