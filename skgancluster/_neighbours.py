"""Distance of each row to its k-th nearest neighbour, in time linear in the number of rows."""

import torch

__all__ = ["neighbour_radius", "neighbour_vote"]

QUERY_ROWS = 1024  # rows compared with the reference set at once


def neighbour_radius(source, n_neighbours=10, reference_size=5000, generator=None):
    """Distance of each scaled row of ``source`` to its ``n_neighbours``-th nearest neighbour.

    Exact when ``source.n_samples <= reference_size``. Beyond, neighbours are
    searched within a fixed random reference set of ``reference_size`` rows,
    so the cost grows linearly with the number of rows; the rank is then
    rescaled to the subsample, ``max(1, round(n_neighbours * reference_size
    / n_samples))``, so that the radius still covers about ``n_neighbours``
    rows of the whole data.

    Parameters
    ----------
    source : skgancluster._training.BatchSource
        The scaled rows.
    n_neighbours : int, default=10
    reference_size : int, default=5000
    generator : torch.Generator or None
        Draws the reference set.

    Returns
    -------
    radius : torch.Tensor of shape (n_samples,), on the source's device
    """
    n, device = source.n_samples, source.device
    if n <= reference_size:
        reference_index, rank = torch.arange(n, device=device), min(n_neighbours, n - 1)
    else:
        reference_index = torch.randperm(n, generator=generator, device=device)[:reference_size]
        rank = max(1, round(n_neighbours * reference_size / n))
    member = torch.zeros(n, dtype=torch.bool, device=device)
    member[reference_index] = True
    reference = _rows(source, reference_index)
    radius = torch.empty(n, device=device)
    with torch.no_grad():
        for start in range(0, n, QUERY_ROWS):
            index = torch.arange(start, min(n, start + QUERY_ROWS), device=device)
            nearest = torch.cdist(_rows(source, index), reference).topk(rank + 1, largest=False).values
            # A row of the reference set finds itself at distance 0 first: skip it.
            radius[index] = torch.where(member[index], nearest[:, rank], nearest[:, rank - 1])
    return radius


def _rows(source, index):
    return source.rows(index.cpu().numpy() if source.sparse else index)


def neighbour_vote(source, labels, n_neighbours=5, reference_size=5000, generator=None):
    """Fraction of each scaled row's ``n_neighbours`` nearest rows that share its label.

    The neighbours are searched among all rows when ``source.n_samples <=
    reference_size``, else within a fixed random reference set of that many
    rows (time linear in the number of rows); a row never counts as its own
    neighbour.

    Parameters
    ----------
    source : skgancluster._training.BatchSource
    labels : torch.Tensor of shape (n_samples,), on the source's device
    n_neighbours : int, default=5
    reference_size : int, default=5000
    generator : torch.Generator or None

    Returns
    -------
    vote : torch.Tensor of shape (n_samples,)
    """
    n, device = source.n_samples, source.device
    if n <= reference_size:
        reference_index = torch.arange(n, device=device)
    else:
        reference_index = torch.randperm(n, generator=generator, device=device)[:reference_size]
    k = min(n_neighbours, len(reference_index) - 1)
    reference, reference_labels = _rows(source, reference_index), labels[reference_index]
    vote = torch.empty(n, device=device)
    with torch.no_grad():
        for start in range(0, n, QUERY_ROWS):
            index = torch.arange(start, min(n, start + QUERY_ROWS), device=device)
            distance = torch.cdist(_rows(source, index), reference)
            distance[index[:, None] == reference_index[None, :]] = float("inf")  # not its own neighbour
            nearest = distance.topk(k, largest=False).indices
            vote[index] = (reference_labels[nearest] == labels[index, None]).float().mean(1)
    return vote
