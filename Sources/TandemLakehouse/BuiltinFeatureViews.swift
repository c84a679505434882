/// The feature views every Tandem knows without a `features/` folder (docs/features.md, "Built-in views"): the
/// text of `features/relevance_v1.yaml`, byte for byte (a test checks that the two are the same).
enum BuiltinFeatureViews {
    static let files: [String: String] = ["features/relevance_v1.yaml": relevanceV1]

    static let relevanceV1 = #"""
        # relevance_v1: the 56 features of docs/data-contract.md, "Gold features", declared as a feature view
        # (docs/features.md). The gold build and the inference path both run what this file compiles to.
        view: relevance_v1
        entity: query_video
        owner: search-relevance
        description: Lexical match (BM25, overlaps, phrase), popularity, freshness, duration and hashed query×title crosses.
        let:
          qd: distinct(tokens(query))
          title: tokens(video.title)
          desc: tokens(video.description)
        features:
          - name: bm25_title
            expr: bm25(qd, title, k1=1.2, b=0.75)
            description: BM25 (k1 1.2, b 0.75) of the query's distinct tokens over title tokens
          - name: bm25_desc
            expr: bm25(qd, desc, k1=1.2, b=0.75)
            description: BM25 of the query's distinct tokens over description tokens
          - name: overlap_title
            expr: overlap(qd, title)
            description: number of distinct query tokens found in the title
          - name: overlap_desc
            expr: overlap(qd, desc)
            description: number of distinct query tokens found in the description
          - name: overlap_channel
            expr: overlap(qd, tokens(video.channel))
            description: number of distinct query tokens found in the channel name
          - name: q_len
            expr: count(qd)
            description: number of distinct query tokens
          - name: title_len
            expr: count(title)
            description: title token count, repeats included
          - name: desc_len
            expr: count(desc)
            description: description token count, repeats included
          - name: overlap_title_frac
            expr: overlap_title / q_len
            description: overlap_title / q_len (0 when q_len is 0)
          - name: overlap_desc_frac
            expr: overlap_desc / q_len
            description: overlap_desc / q_len (0 when q_len is 0)
          - name: all_q_in_title
            expr: q_len > 0 and overlap_title == q_len
            description: 1 when every distinct query token is in the title
          - name: exact_phrase_title
            expr: phrase_in(tokens(query), title)
            description: 1 when the query's tokens appear in order, contiguous, in the title
          - name: log1p_views
            expr: log1p(video.views)
            description: ln(1 + views)
          - name: age_days
            expr: days_between(video.published, event_time)
            description: (judged_at − published) in days
          - name: log1p_age_days
            expr: log1p(max(age_days, 0))
            description: ln(1 + max(age_days, 0))
          - name: log1p_views_per_day
            expr: log1p(video.views / max(age_days, 1))
            description: ln(1 + views / max(age_days, 1))
          - name: log1p_duration_s
            expr: log1p(video.duration_s)
            description: ln(1 + duration_s)
          - name: dur_b{i}
            expr: one_hot(bucket(video.duration_s, [60, 240, 600, 1200, 3600]), 6)
            descriptions:
              - 1 when duration_s is in [0,60) seconds
              - 1 when duration_s is in [60,240) seconds
              - 1 when duration_s is in [240,600) seconds
              - 1 when duration_s is in [600,1200) seconds
              - 1 when duration_s is in [1200,3600) seconds
              - 1 when duration_s is in [3600,∞) seconds
          - name: q_len_chars
            expr: length(query)
            description: Unicode code points of the normalised query
          - name: h{i:02}
            expr: hashed_crosses(qd, distinct(title), buckets=32)
            description: 'hashed query×title token crosses: count of pairs with fnv1a32(q + " " + t) mod 32 = {i}'

        """#
}
