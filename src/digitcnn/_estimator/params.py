"""scikit-learn's hyperparameter API: ``get_params``, ``set_params`` and the ``repr``."""

from __future__ import annotations

import inspect
from typing import Any

from typing_extensions import Self

from digitcnn._version import __version__

__all__ = ["ParamsMixin"]


class ParamsMixin:
    """Provide scikit-learn's hyperparameter API to an estimator class.

    The class's constructor must store each keyword argument unchanged in an
    attribute of the same name; the hyperparameters are the constructor's
    parameters. This is what :func:`sklearn.base.clone` and grid searches rely on.
    """

    @classmethod
    def _param_defaults(cls) -> dict[str, Any]:
        parameters = inspect.signature(cls.__init__).parameters
        return {name: p.default for name, p in parameters.items() if name != "self"}

    @classmethod
    def _from_saved_params(cls, params: dict[str, Any], source: object) -> Self:
        """Return an estimator with the hyperparameters saved in the file ``source``.

        They are stored unchanged, as by the constructor, and checked when
        the estimator is fitted again.

        Raises
        ------
        ValueError
            If a saved name is not a hyperparameter of this class.
        """
        unknown = set(params) - set(cls._param_defaults())
        if unknown:
            raise ValueError(
                f"{source} has hyperparameters {sorted(unknown)} unknown to digitcnn {__version__}"
            )
        return cls(**params)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the hyperparameters, as passed to the constructor.

        Parameters
        ----------
        deep : bool, default True
            Accepted for scikit-learn compatibility; there are no nested
            estimators.

        Returns
        -------
        dict
            Hyperparameter names mapped to their values.
        """
        return {name: getattr(self, name) for name in self._param_defaults()}

    def set_params(self, **params: Any) -> Self:
        """Set hyperparameters; they take effect at the next ``fit``.

        Parameters
        ----------
        **params
            Hyperparameter names and new values.

        Returns
        -------
        object
            ``self``.

        Raises
        ------
        ValueError
            If a name is not a hyperparameter of this class.
        """
        valid = list(self._param_defaults())
        for name, value in params.items():
            if name not in valid:
                raise ValueError(
                    f"invalid parameter {name!r} for {type(self).__name__}; valid ones are {valid}"
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = self._param_defaults()
        changed = [
            f"{name}={value!r}"
            for name, value in self.get_params().items()
            if value != defaults[name]
        ]
        return f"{type(self).__name__}({', '.join(changed)})"
