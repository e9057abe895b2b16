;;; guile_workload.scm: allocation-heavy Guile 3.0 work whose standard output
;;; must not depend on the collector (run by guile_matches_stock_libgc.sh on the
;;; stock libgc.so.1 and on ours, outputs compared byte for byte).
;;;
;;;   guile --no-auto-compile -s guile_workload.scm [SCALE]
;;;
;;; Exercises what libguile asks of bdwgc: plain and pointer-free objects,
;;; its own object kinds with a mark procedure (the VM stack), GC_malloc_many
;;; free lists, realloc, bignums, weak hash tables (disappearing links),
;;; guardians and finalizers (GC_register_finalizer_no_order and the
;;; finalizer thread notified by GC_set_finalizer_notifier), threads
;;; registered with GC_register_my_thread, explicit collections, and the
;;; compiler.  Facts that depend on the collector's timing (how many weak
;;; entries vanished, how many guardians fired) go to standard error only;
;;; the invariants that must hold whatever the timing are checked and printed.

(use-modules (ice-9 threads) (ice-9 format) (srfi srfi-1) (srfi srfi-9) (rnrs bytevectors)
             (system base compile) (ice-9 match)
             ((rnrs io ports) #:select (open-bytevector-input-port get-u8)))

(define scale
  (let ((args (cdr (command-line))))
    (if (pair? args) (string->number (car args)) 1)))
(define (sc n) (max 1 (inexact->exact (round (* n scale)))))

(define (check name . vals)
  (format #t "check: ~a:~{ ~a~}\n" name vals)
  (force-output))
(define (info fmt . args)
  (apply format (current-error-port) (string-append "info: " fmt "\n") args))

;; deterministic pseudo-random numbers (Park-Miller)
(define seed 12345)
(define (rnd n)
  (set! seed (modulo (* seed 16807) 2147483647))
  (modulo seed n))

;;; 1. lists, vectors, sorting
(define (part-lists)
  (let loop ((round 0) (acc 0))
    (if (< round (sc 10))
        (let* ((l (list-tabulate 100000 (lambda (i) (rnd 1000000))))
               (s (sort l <))
               (v (list->vector s))
               (r (reverse s)))
          (loop (+ round 1)
                (modulo (+ acc (vector-ref v 500) (car r) (length (delete-duplicates (take s 2000)))) 1000000007)))
        (check "lists" acc))))

;;; 2. strings and string ports
(define (part-strings)
  (let loop ((round 0) (total 0) (hash 0))
    (if (< round (sc 20))
        (let* ((words (map (lambda (i) (string-append "w" (number->string (rnd 100000) 36) "-" (number->string i)))
                           (iota 20000)))
               (text (string-join words " "))
               (parts (string-split text #\space))
               (up (string-upcase text))
               (out (call-with-output-string
                     (lambda (port)
                       (for-each (lambda (w) (write w port) (newline port)) parts))))
               (back (call-with-input-string out
                       (lambda (port)
                         (let rd ((n 0) (x (read port)))
                           (if (eof-object? x) n (rd (+ n (string-length x)) (read port))))))))
          (loop (+ round 1) (+ total (string-length up) back)
                (modulo (+ (* hash 31) (string-hash text)) 1000000007)))
        (check "strings" total hash))))

;;; 3. hash tables
(define (part-hash)
  (let ((h (make-hash-table)) (n (sc 200000)))
    (do ((i 0 (+ i 1))) ((= i n))
      (hash-set! h (string-append "key" (number->string i)) (list i (* i i) (number->string i 16))))
    (do ((i 0 (+ i 2))) ((>= i n))
      (hash-remove! h (string-append "key" (number->string i))))
    (let ((sum 0) (cnt 0))
      (hash-for-each (lambda (k v) (set! cnt (+ cnt 1)) (set! sum (modulo (+ sum (cadr v)) 1000000007))) h)
      (check "hash" cnt sum (caddr (hash-ref h "key99999" '(0 0 "none")))))))

;;; 4. bignums and rationals
(define (part-bignums)
  (define (fact n) (let f ((i 1) (a 1)) (if (> i n) a (f (+ i 1) (* a i)))))
  (define (fib n) (let f ((i 0) (a 0) (b 1)) (if (= i n) a (f (+ i 1) b (+ a b)))))
  (let* ((f (fact (sc 6000)))
         (g (fib (sc 60000)))
         (q (let h ((i 1) (acc 0)) (if (> i 400) acc (h (+ i 1) (+ acc (/ 1 i))))))
         (e (modulo (expt 7 (sc 5000)) 1000000007)))
    (check "bignums" (string-length (number->string f)) (modulo f 1000000009)
           (string-length (number->string g)) (modulo g 998244353)
           (modulo (numerator q) 1000000007) (modulo (denominator q) 1000000007) e)))

;;; 5. trees of records and closures (binary trees)
(define-record-type node (make-node l r) node? (l node-l) (r node-r))
(define (make-tree d) (if (= d 0) (make-node #f #f) (make-node (make-tree (- d 1)) (make-tree (- d 1)))))
(define (tree-check t) (if (node-l t) (+ 1 (tree-check (node-l t)) (tree-check (node-r t))) 1))
(define (part-trees)
  (let* ((maxd 16) (long-lived (make-tree maxd)))
    (do ((d 4 (+ d 2))) ((> d maxd))
      (let ((iters (sc (ash 1 (- maxd d -2)))))
        (let loop ((i 0) (c 0))
          (if (< i iters)
              (loop (+ i 1) (+ c (tree-check (make-tree d))))
              (check "trees" d iters c)))))
    (check "trees long-lived" (tree-check long-lived))))

;;; 6. weak hash tables: live keys must keep their values; dead ones may go
(define (part-weak)
  (let* ((n (sc 20000))
         (t (make-weak-key-hash-table))
         (live (make-vector n #f)))
    (do ((i 0 (+ i 1))) ((= i n))
      (let ((k (list 'live i)))
        (vector-set! live i k)
        (hash-set! t k (* i 3))))
    (do ((i 0 (+ i 1))) ((= i n))
      (hash-set! t (list 'dead i) i))
    (gc) (gc)
    ;; churn so the table gets vacuumed
    (do ((i 0 (+ i 1))) ((= i 200000)) (cons i i))
    (gc)
    (let ((ok 0) (entries 0))
      (do ((i 0 (+ i 1))) ((= i n))
        (when (eqv? (hash-ref t (vector-ref live i)) (* i 3)) (set! ok (+ ok 1))))
      (hash-for-each (lambda (k v) (set! entries (+ entries 1))) t)
      (check "weak live keys kept" ok "of" n (if (<= n entries (* 2 n)) "entries-in-range" "ENTRIES-OUT-OF-RANGE"))
      (info "weak table: ~a of ~a dead entries gone" (- (* 2 n) entries) n)
      (vector-ref live 0))))

;;; 7. guardians: a live object is never returned; returned ones were dropped
(define (part-guardians)
  (let* ((g (make-guardian))
         (n (sc 5000))
         (live (make-vector n #f)))
    (do ((i 0 (+ i 1))) ((= i n))
      (let ((x (list 'live i)))
        (vector-set! live i x) (g x)))
    (do ((i 0 (+ i 1))) ((= i n))
      (g (list 'dead i)))
    (gc) (gc) (gc)
    (let loop ((x (g)) (returned 0) (bad 0))
      (if x
          (loop (g) (+ returned 1) (if (eq? (car x) 'dead) bad (+ bad 1)))
          (begin
            (check "guardians: live objects returned" bad)
            (info "guardians: ~a of ~a dropped objects returned" returned n)
            (vector-ref live 0))))))

;;; 8. finalizers on bytevectors and ports (GC_register_finalizer_no_order):
;;; lots of garbage ports and bytevectors; their finalizers run on the
;;; finalizer thread.  Output: contents only.
(define (part-ports-bytevectors)
  (let loop ((i 0) (sum 0))
    (if (< i (sc 60000))
        (let* ((bv (make-bytevector (+ 16 (rnd 4000)) (modulo i 256)))
               (p (open-bytevector-input-port bv))
               (b (get-u8 p))
               (s (with-output-to-string (lambda () (display i) (display (bytevector-length bv))))))
          (close-port p)
          (loop (+ i 1) (modulo (+ sum b (string-length s) (bytevector-u8-ref bv (- (bytevector-length bv) 1))) 1000000007)))
        (check "ports+bytevectors" sum))))
(define (get-u8 p) ((@ (rnrs io ports) get-u8) p))

;;; 9. threads (registered with GC_register_my_thread) allocating at once
(define (part-threads)
  (let* ((m (make-mutex))
         (shared (make-hash-table))
         (work (lambda (id)
                 (let loop ((i 0) (acc '()))
                   (if (< i (sc 600000))
                       (loop (+ i 1) (if (= 0 (modulo i 1000))
                                         (cons (list id i (make-string 10 #\x)) acc)
                                         (begin (make-vector 4 i) acc)))
                       (begin
                         (with-mutex m (hash-set! shared id (length acc)))
                         (fold (lambda (e a) (+ a (cadr e))) 0 acc))))))
         (threads (map (lambda (id) (call-with-new-thread (lambda () (work id)))) (iota 4)))
         (results (map join-thread threads))
         (pm (par-map (lambda (i) (length (list-tabulate (* 1000 (+ i 1)) (lambda (j) (cons i j))))) (iota 16))))
    (check "threads" results (sort (hash-map->list (lambda (k v) (+ (* 1000000 k) v)) shared) <) (apply + pm))))

;;; 10. the compiler: compile and run generated code
(define (part-compile)
  (define (gen-expr depth)
    (if (= depth 0)
        (rnd 100)
        (match (rnd 4)
          (0 `(+ ,(gen-expr (- depth 1)) ,(gen-expr (- depth 1))))
          (1 `(let ((x ,(gen-expr (- depth 1)))) (* x 3)))
          (2 `(if (even? ,(gen-expr (- depth 1))) ,(gen-expr (- depth 1)) 7))
          (_ `(modulo (- ,(gen-expr (- depth 1)) 5) 1000003)))))
  (let loop ((i 0) (acc 0))
    (if (< i (sc 40))
        (let* ((e (gen-expr 11))
               (v (compile `(lambda () ,e) #:to 'value))
               (r (v)))
          (loop (+ i 1) (modulo (+ acc r) 1000000007)))
        (check "compile" acc))))

(define gc0 (assq-ref (gc-stats) 'gc-times))
(define (timed name thunk)
  (let ((t0 (get-internal-real-time)))
    (thunk)
    (info "~a: ~,2f s" name (exact->inexact (/ (- (get-internal-real-time) t0) internal-time-units-per-second)))))
(for-each (lambda (p) (timed (car p) (cdr p)))
          (list (cons 'lists part-lists) (cons 'strings part-strings) (cons 'hash part-hash)
                (cons 'bignums part-bignums) (cons 'trees part-trees) (cons 'weak part-weak)
                (cons 'guardians part-guardians) (cons 'ports+bytevectors part-ports-bytevectors)
                (cons 'threads part-threads) (cons 'compile part-compile)))
(gc)
(let ((st (gc-stats)))
  (info "gc-times ~a, heap-size ~a" (- (assq-ref st 'gc-times) gc0) (assq-ref st 'heap-size)))
(check "done" 'ok)
