"""Money: KDV (Turkish VAT) on a charge, with one rounding rule, and savings between cycles.

The rounding rule: amounts are exact Decimals in lira with 2 places. When the price includes
KDV, gross = amount and net = round_half_up(gross / (1 + rate), 2), kdv = gross − net; when it
excludes KDV, net = amount, kdv = round_half_up(net × rate, 2), gross = net + kdv.
ROUND_HALF_UP at the kuruş (0.01), applied ONCE per charge (never per line and summed).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from portal.billing.periods import BILLING_CYCLES, CYCLE_MONTHS, MONTHLY

KDV_RATE = Decimal("0.20")
CENT = Decimal("0.01")

_PERCENT = Decimal(1)
# Enough digits that a division is exact to far below a kuruş before the one rounding, whatever
# precision the caller's decimal context happens to have.
_PRECISION = 60


def _check_amount(amount: Decimal, name: str = "amount") -> Decimal:
    # Floats cannot hold most kuruş amounts exactly (0.1 + 0.2 != 0.3); refuse them outright.
    if not isinstance(amount, Decimal):
        raise TypeError(f"{name} must be a Decimal, not {type(amount).__name__}")
    if not amount.is_finite():
        raise ValueError(f"{name} must be a finite number, not {amount}")
    if amount < 0:
        raise ValueError(f"{name} must not be negative, not {amount}")
    # Judged by value and without the context's rounding, so 12.50 and 12.500 are both fine
    # but 12.505 is refused: a price is set in whole kuruş.
    _sign, digits, exponent = amount.as_tuple()
    if exponent < -2 and any(digits[exponent + 2 :]):
        raise ValueError(f"{name} must be in whole kuruş (2 decimal places), not {amount}")
    with localcontext() as context:
        context.prec = _PRECISION
        return abs(amount).quantize(CENT)  # abs() turns -0.00 into 0.00


@dataclass(frozen=True)
class Charge:
    """One charge split into net, KDV and gross, all in lira with 2 places."""

    net: Decimal
    kdv: Decimal
    gross: Decimal

    def __post_init__(self) -> None:
        # The invariant the payments table checks too; a Charge that breaks it is a bug. Added
        # at full precision, or a caller's low-precision context could round the sum.
        with localcontext() as context:
            context.prec = _PRECISION
            balanced = self.gross == self.net + self.kdv
        if not balanced:
            raise ValueError(f"gross {self.gross} is not net {self.net} + kdv {self.kdv}")


def charge_for(amount: Decimal, kdv_included: bool, rate: Decimal = KDV_RATE) -> Charge:
    """Split a price into net, KDV and gross by the module's one rounding rule."""
    amount = _check_amount(amount)
    if not isinstance(rate, Decimal):
        raise TypeError(f"rate must be a Decimal, not {type(rate).__name__}")
    if not rate.is_finite() or rate < 0:
        raise ValueError(f"rate must be a finite number of 0 or more, not {rate}")
    with localcontext() as context:
        context.prec = _PRECISION
        if kdv_included:
            gross = amount
            net = (gross / (1 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)
            kdv = gross - net
        else:
            net = amount
            kdv = (net * rate).quantize(CENT, rounding=ROUND_HALF_UP)
            gross = net + kdv
    return Charge(net=net, kdv=kdv, gross=gross)


def _months_in(cycle: str) -> int | None:
    if cycle not in BILLING_CYCLES:
        raise ValueError(f"Unknown billing cycle: {cycle!r}")
    return CYCLE_MONTHS.get(cycle)


def monthly_equivalent(amount: Decimal, cycle: str) -> Decimal | None:
    """What a price for `cycle` comes to per month, to the kuruş; None for day or lifetime cycles.

    For display only ("₺83.33 / month"); what is charged is always the price itself.
    """
    amount = _check_amount(amount)
    months = _months_in(cycle)
    if months is None:
        return None
    with localcontext() as context:
        context.prec = _PRECISION
        return (amount / months).quantize(CENT, rounding=ROUND_HALF_UP)


def saving_against_monthly(
    price_for_cycle: Decimal, cycle: str, monthly_price: Decimal
) -> Decimal | None:
    """The percent saved by paying `cycle` instead of monthly for the same months, rounded.

    A whole percent, ROUND_HALF_UP; negative when the longer cycle costs more. None for cycles
    that are not whole multiples of a month longer than one (daily, weekly, monthly, lifetime)
    and when the monthly price is zero, since nothing can be saved against free.
    """
    price_for_cycle = _check_amount(price_for_cycle, "price_for_cycle")
    monthly_price = _check_amount(monthly_price, "monthly_price")
    months = _months_in(cycle)
    if months is None or cycle == MONTHLY or monthly_price == 0:
        return None
    with localcontext() as context:
        context.prec = _PRECISION
        monthly_total = monthly_price * months
        saving = (monthly_total - price_for_cycle) * 100 / monthly_total
        percent = saving.quantize(_PERCENT, rounding=ROUND_HALF_UP)
    # A saving of -0.3 % rounds to -0; show it as 0, not "-0".
    return abs(percent) if percent.is_zero() else percent
