;;; bench/programs/hashstrings.scm -- hash tables and strings for Guile 3.0 (bench/run.sh, part programs)
;;; Each round fills a fresh hash table (it starts small and rehashes as it
;;; grows) with N string keys built by string-append/number->string mapping
;;; to string values, deletes every third key (the table shrinks and
;;; rehashes), looks every key up, replaces the values of the rest with new
;;; strings (string-upcase, substring), splits and joins strings.  The
;;; previous round's table stays live while the next round runs.
;;; Size: N = 100000, 3 rounds; N = 3000, 2 rounds when PROG_SIZE=smoke.

(define smoke? (equal? (getenv "PROG_SIZE") "smoke"))
(define n (if smoke? 3000 100000))
(define rounds (if smoke? 2 3))

(define (key r i)
  (string-append "key-" (number->string i) "/" (number->string (modulo (* i 7919) 65521)) "-r" (number->string r)))

(define (round r)
  (let ((h (make-hash-table)))
    (do ((i 0 (+ i 1))) ((= i n))
      (hash-set! h (key r i) (string-append "value:" (number->string (* i i)))))
    (do ((i 0 (+ i 3))) ((>= i n))
      (hash-remove! h (key r i)))
    (let ((found 0) (chars 0))
      (do ((i 0 (+ i 1))) ((= i n))
        (let ((v (hash-ref h (key r i))))
          (when v
            (set! found (+ found 1))
            (set! chars (+ chars (string-length v)))
            (hash-set! h (key r i)
                       (string-upcase (string-append (substring v 6) "-" (number->string r)))))))
      (let ((parts 0))
        (hash-for-each
         (lambda (k v)
           (set! parts (+ parts (length (string-split k #\-))
                          (string-length (string-join (list k v) "=")))))
         h)
        (values h (+ found chars parts (hash-count (const #t) h)))))))

(define (run)
  (let loop ((r 0) (kept #f) (acc 0))
    (if (= r rounds)
        (+ acc (hash-count (const #t) kept))
        (call-with-values (lambda () (round r))
          (lambda (h v) (loop (+ r 1) h (+ acc v)))))))

(format #t "check: hashstrings n ~a rounds ~a total ~a\n" n rounds (run))
